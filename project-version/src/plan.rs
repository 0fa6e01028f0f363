//! The names of what a release publishes, all derived from the version and the registries.

use serde_json::{json, Value};

/// Where images and Spin artifacts go unless `IMAGE_REGISTRY` says otherwise; the chart's
/// values.yaml and the deployment harness name the same one (a project test checks it).
pub const DEFAULT_IMAGE_REGISTRY: &str = "europe-west3-docker.pkg.dev/digitalgedacht/hello-world";

/// Every artifact name of release `version`. The chart's _helpers.tpl names images the same
/// way: `<registry>/<name>[-spin]:<version>`. Only the version's own tag is pushed: a moving
/// tag such as `latest` would let the same name pull different bytes.
pub fn plan(
    version: &str,
    image_registry: Option<String>,
    chart_registry: Option<String>,
) -> Value {
    let image_registry = image_registry.unwrap_or_else(|| DEFAULT_IMAGE_REGISTRY.to_owned());
    let image_registry = image_registry.trim_end_matches('/');
    let chart_registry = chart_registry.unwrap_or_else(|| format!("{image_registry}/charts"));
    let chart_registry = chart_registry.trim_end_matches('/');
    json!({
        "version": version,
        "git_tag": version,
        "assets": {
            "chart": format!("dist/hello-world-{version}.tgz"),
            "site": format!("dist/site-{version}.tar.gz"),
            "wasm": format!("dist/hello-world-{version}.wasm"),
        },
        "native_images": [format!("{image_registry}/hello-world:{version}")],
        "spin_artifacts": [format!("{image_registry}/hello-world-spin:{version}")],
        "chart_repository": format!("oci://{chart_registry}"),
        "chart": format!("oci://{chart_registry}/hello-world:{version}"),
    })
}

/// A field of the plan for the shell: a string as is, a list's or an object's values one per
/// line.
pub fn lines(plan: &Value, field: &str) -> Result<String, String> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match plan.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(items)) => Ok(items.iter().map(text).collect::<Vec<_>>().join("\n")),
        Some(Value::Object(items)) => Ok(items.values().map(text).collect::<Vec<_>>().join("\n")),
        _ => Err(format!("the plan has no field {field:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_registry_follows_the_image_registry_unless_set() {
        let p = plan("1.2.3", Some("registry.example/team/".to_owned()), None);
        assert_eq!(
            p["native_images"][0],
            "registry.example/team/hello-world:1.2.3"
        );
        assert_eq!(
            p["spin_artifacts"][0],
            "registry.example/team/hello-world-spin:1.2.3"
        );
        assert_eq!(
            p["chart"],
            "oci://registry.example/team/charts/hello-world:1.2.3"
        );
        let p = plan("1.2.3", None, Some("charts.example".to_owned()));
        assert_eq!(p["chart_repository"], "oci://charts.example");
        assert_eq!(
            p["native_images"][0],
            format!("{DEFAULT_IMAGE_REGISTRY}/hello-world:1.2.3")
        );
    }

    #[test]
    fn a_release_pushes_only_its_own_version_tag() {
        let p = plan("1.2.3", Some("r.example".to_owned()), None);
        for field in ["native_images", "spin_artifacts"] {
            let refs = p[field].as_array().unwrap();
            assert_eq!(refs.len(), 1, "{field}: {refs:?}");
            assert!(
                refs[0].as_str().unwrap().ends_with(":1.2.3"),
                "{field}: {refs:?}"
            );
        }
    }

    #[test]
    fn a_field_prints_one_value_per_line_for_the_shell() {
        let p = plan("1.2.3", Some("r.example".to_owned()), None);
        assert_eq!(lines(&p, "version").unwrap(), "1.2.3");
        assert_eq!(
            lines(&p, "native_images").unwrap(),
            "r.example/hello-world:1.2.3"
        );
        assert_eq!(lines(&p, "assets").unwrap().lines().count(), 3);
        assert!(lines(&p, "nothing").is_err());
    }
}
