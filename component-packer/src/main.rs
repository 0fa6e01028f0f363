//! `component-packer CORE_MODULE BODIES OUTPUT`: writes the component for the core module that
//! `component/` links to and the site's blob of bodies (`bodies.bin` in the core's build output).
//! `mise run build-component` runs it; see the crate's documentation for why.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, bodies, output] = args.as_slice() else {
        eprintln!("usage: component-packer CORE_MODULE BODIES OUTPUT");
        return ExitCode::from(2);
    };
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    let packed = read(module)
        .and_then(|module| Ok((module, read(bodies)?)))
        .and_then(|(module, bodies)| component_packer::pack(&module, &bodies))
        .and_then(|component| {
            std::fs::write(output, component).map_err(|e| format!("{output}: {e}"))
        });
    match packed {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("component-packer: {message}");
            ExitCode::FAILURE
        }
    }
}
