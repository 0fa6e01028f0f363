//! The verifier's policy: which repositories must carry a cosign signature, and by which key.
//!
//! One rule per line, `<repository> <public key file> [http]`; `#` starts a comment. A
//! repository is matched exactly, without tag or digest (`registry.example/team/hello-world`
//! covers `registry.example/team/hello-world:1.2.3`, not `registry.example/team/hello-world-spin`).
//! `http`: the registry speaks plain HTTP, as a cluster-local test registry does.

use std::fmt;

#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub repository: String,
    pub key: String,
    pub plain_http: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {}; a rule is `<repository> <public key file> [http]`",
            self.line, self.reason
        )
    }
}

pub fn parse(text: &str) -> Result<Vec<Rule>, PolicyError> {
    let mut rules = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let words: Vec<&str> = line
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let error = |reason: String| PolicyError {
            line: line_number,
            reason,
        };
        match words.as_slice() {
            [] => {}
            [repository, key] => rules.push(rule(repository, key, false)),
            [repository, key, "http"] => rules.push(rule(repository, key, true)),
            [_, _, option] => return Err(error(format!("unknown option `{option}`"))),
            _ => return Err(error(format!("{} words", words.len()))),
        }
    }
    Ok(rules)
}

fn rule(repository: &str, key: &str, plain_http: bool) -> Rule {
    Rule {
        repository: repository.to_string(),
        key: key.to_string(),
        plain_http,
    }
}

/// The repository of an image reference: without its digest (`@sha256:…`) and its tag (a `:`
/// after the last `/`, so that a registry's port stays).
pub fn repository_of(reference: &str) -> &str {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => &name[..colon],
        _ => name,
    }
}

/// The rule that covers `reference`, if any.
pub fn rule_for<'a>(rules: &'a [Rule], reference: &str) -> Option<&'a Rule> {
    let repository = repository_of(reference);
    rules.iter().find(|rule| rule.repository == repository)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_its_repository_without_tag_or_digest_keeping_the_port() {
        assert_eq!(
            repository_of("127.0.0.1:5000/hello-world:0.1.0"),
            "127.0.0.1:5000/hello-world"
        );
        assert_eq!(
            repository_of("127.0.0.1:5000/hello-world"),
            "127.0.0.1:5000/hello-world"
        );
        assert_eq!(
            repository_of("r.example/team/hello-world:1.2.3@sha256:abc"),
            "r.example/team/hello-world"
        );
        assert_eq!(
            repository_of("r.example/team/hello-world@sha256:abc"),
            "r.example/team/hello-world"
        );
    }

    #[test]
    fn a_rule_covers_its_repository_exactly() {
        let rules = parse("r.example/hello-world /keys/release.pub\n").unwrap();
        assert!(rule_for(&rules, "r.example/hello-world:1.0.0").is_some());
        assert!(rule_for(&rules, "r.example/hello-world-spin:1.0.0").is_none());
        assert!(rule_for(&rules, "other.example/hello-world:1.0.0").is_none());
    }

    #[test]
    fn comments_blank_lines_and_the_http_option_are_read() {
        let rules =
            parse("# the release\n\n127.0.0.1:5000/hello-world k.pub http # loopback\n").unwrap();
        assert_eq!(
            rules,
            vec![rule("127.0.0.1:5000/hello-world", "k.pub", true)]
        );
    }

    #[test]
    fn a_malformed_rule_names_its_line() {
        let error = parse("a k.pub\nb\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.to_string().contains("line 2: 1 words"));
        let error = parse("a k.pub https\n").unwrap_err();
        assert_eq!(error.reason, "unknown option `https`");
    }
}
