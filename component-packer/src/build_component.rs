//! `build-component`: the whole component build as one cargo step. cargo links `component/` to a
//! core module for wasm32 (which runs the core's build script, the site compiler), and the
//! packer reads where cargo put both from its JSON messages, then packs them.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::Stdio;

use cargo_metadata::{Message, MetadataCommand, PackageId};
use site_compiler::artifacts::BODIES;
use site_compiler::{read_figures, SiteFigures};

use crate::site_segment::{linear_memory, LinearMemory};
use crate::wasm_toolchain::WasmToolchain;

/// The crate whose build script compiles the site, and the crate that links the core module.
const CORE: &str = "hello-world";
const SHELL: &str = "hello-world-component";

pub struct Built {
    pub component: PathBuf,
    pub bytes: u64,
    pub figures: SiteFigures,
    pub memory: LinearMemory,
}

/// Builds `target/component/hello-world.wasm` in release mode.
pub fn build_component(toolchain: WasmToolchain) -> Result<Built, String> {
    let metadata = MetadataCommand::new()
        .cargo_path(toolchain.cargo_path())
        .no_deps()
        .exec()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    let id = |name: &str| -> Result<PackageId, String> {
        metadata
            .workspace_packages()
            .into_iter()
            .find(|p| p.name.as_str() == name)
            .map(|p| p.id.clone())
            .ok_or_else(|| format!("the workspace has no package {name}"))
    };
    let (core, shell) = (id(CORE)?, id(SHELL)?);

    let args = [
        "--release",
        "-p",
        SHELL,
        "--message-format=json-render-diagnostics",
    ];
    let args: Vec<String> = args.map(str::to_owned).to_vec();
    let mut cargo = toolchain
        .cargo("build", &args)
        .current_dir(&metadata.workspace_root)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", toolchain.cargo_path()))?;
    let (mut out_dir, mut core_module) = (None, None);
    let stdout = cargo.stdout.take().expect("piped");
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message.map_err(|e| format!("cannot read cargo's messages: {e}"))? {
            Message::BuildScriptExecuted(script) if script.package_id == core => {
                out_dir = Some(script.out_dir.into_std_path_buf());
            }
            Message::CompilerArtifact(artifact) if artifact.package_id == shell => {
                core_module = artifact
                    .filenames
                    .into_iter()
                    .find(|f| f.extension() == Some("wasm"))
                    .map(|f| f.into_std_path_buf());
            }
            _ => {}
        }
    }
    let status = cargo.wait().map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo could not build {SHELL} ({status}); see its errors above"
        ));
    }
    let (Some(out_dir), Some(core_module)) = (out_dir, core_module) else {
        return Err(format!(
            "cargo reported no site table of {CORE} or no core module of {SHELL}"
        ));
    };

    let read = |path: &PathBuf| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let core_module = read(&core_module)?;
    let component = crate::pack(&core_module, &read(&out_dir.join(BODIES))?)?;
    let path = metadata
        .target_directory
        .join("component")
        .join("hello-world.wasm")
        .into_std_path_buf();
    let parent = path.parent().expect("a file in a folder");
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    std::fs::write(&path, &component).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Built {
        component: path,
        bytes: component.len() as u64,
        figures: read_figures(&out_dir)?,
        memory: linear_memory(&core_module)?,
    })
}
