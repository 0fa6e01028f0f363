//! The rewrite on a small module written for it: what the import becomes, where every call
//! goes afterwards, and what the packer refuses.

use site_compiler::artifacts::BODIES_IMPORT;
use wasmparser::{DataKind, Name, Operator, Parser, Payload};

const MODULE: &str = r#"
(module
  (type $copy (func (param i32 i32 i32)))
  (import "host" "before" (func $before))
  (import BODIES_IMPORT (func $copy (type $copy)))
  (import "host" "after" (func $after))
  (memory 1)
  (func $serve (export "serve")
    call $before
    (call $copy (i32.const 0) (i32.const 3) (i32.const 4))
    call $after
    call $helper)
  (func $helper)
  (table 1 funcref)
  (elem (i32.const 0) func $helper)
  (data (i32.const 16) "the code's own data"))
"#;

const BODIES: &[u8] = b"<html>the site</html>";

struct Rewritten {
    imports: Vec<String>,
    names: Vec<(u32, String)>,
    calls_in_serve: Vec<u32>,
    table: Vec<u32>,
    copy_body: Vec<String>,
    active: Vec<Vec<u8>>,
    passive: Vec<Vec<u8>>,
    data_count: Option<u32>,
}

/// Rewrites `wat`, in which `BODIES_IMPORT` stands for the import's module and name.
fn rewrite(wat: &str) -> Result<Rewritten, String> {
    let (module, name) = BODIES_IMPORT;
    let wat = wat.replace("BODIES_IMPORT", &format!("{module:?} {name:?}"));
    let module = wat::parse_str(wat).unwrap();
    let bytes = component_packer::site_segment::move_in(&module, BODIES)?;
    let mut out = Rewritten {
        imports: vec![],
        names: vec![],
        calls_in_serve: vec![],
        table: vec![],
        copy_body: vec![],
        active: vec![],
        passive: vec![],
        data_count: None,
    };
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.unwrap() {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    out.imports
                        .push(format!("{} {}", import.module, import.name));
                }
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    if let wasmparser::ElementItems::Functions(functions) = element.unwrap().items {
                        out.table.extend(functions.into_iter().map(Result::unwrap));
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let operators: Vec<String> = body
                    .get_operators_reader()
                    .unwrap()
                    .into_iter()
                    .map(|op| format!("{:?}", op.unwrap()))
                    .collect();
                bodies.push((body, operators));
            }
            Payload::DataCountSection { count, .. } => out.data_count = Some(count),
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.unwrap();
                    match data.kind {
                        DataKind::Active { .. } => out.active.push(data.data.to_vec()),
                        DataKind::Passive => out.passive.push(data.data.to_vec()),
                    }
                }
            }
            Payload::CustomSection(reader) => {
                if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                    for name in names {
                        if let Name::Function(map) = name.unwrap() {
                            for naming in map {
                                let naming = naming.unwrap();
                                out.names.push((naming.index, naming.name.to_owned()));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // Defined functions in order: serve, helper, then the import's replacement.
    for op in bodies[0].0.get_operators_reader().unwrap() {
        if let Operator::Call { function_index } = op.unwrap() {
            out.calls_in_serve.push(function_index);
        }
    }
    out.copy_body = bodies.last().unwrap().1.clone();
    Ok(out)
}

fn name_of(rewritten: &Rewritten, index: u32) -> &str {
    &rewritten.names.iter().find(|(i, _)| *i == index).unwrap().1
}

#[test]
fn the_import_becomes_memory_init_from_the_last_segment() {
    let rewritten = rewrite(MODULE).unwrap();
    assert_eq!(rewritten.imports, ["host before", "host after"]);
    assert_eq!(
        rewritten.copy_body,
        [
            "LocalGet { local_index: 0 }",
            "LocalGet { local_index: 1 }",
            "LocalGet { local_index: 2 }",
            "MemoryInit { data_index: 1, mem: 0 }",
            "End"
        ]
    );
    assert_eq!(rewritten.passive, [BODIES]);
    assert_eq!(rewritten.active, [b"the code's own data".to_vec()]);
    assert_eq!(rewritten.data_count, Some(2));
}

#[test]
fn every_call_and_table_entry_still_names_the_same_function() {
    let rewritten = rewrite(MODULE).unwrap();
    let called: Vec<&str> = rewritten
        .calls_in_serve
        .iter()
        .map(|&i| name_of(&rewritten, i))
        .collect();
    assert_eq!(called, ["before", "copy", "after", "helper"]);
    let table: Vec<&str> = rewritten
        .table
        .iter()
        .map(|&i| name_of(&rewritten, i))
        .collect();
    assert_eq!(table, ["helper"]);
}

#[test]
fn a_module_without_the_import_is_refused_with_the_reason() {
    let error = rewrite(r#"(module (memory 1) (func (export "serve")))"#)
        .err()
        .unwrap();
    let (module, name) = BODIES_IMPORT;
    assert!(
        error.contains(&format!("does not import `{module}` `{name}`")),
        "{error}"
    );
}

#[test]
fn an_import_of_another_shape_is_refused() {
    let error = rewrite(r#"(module (import BODIES_IMPORT (func (param i32))) (memory 1))"#)
        .err()
        .unwrap();
    assert!(
        error.contains("must be (destination: i32, start: i32, len: i32) -> ()"),
        "{error}"
    );
}

#[test]
fn a_component_is_refused() {
    let error =
        component_packer::site_segment::move_in(&wat::parse_str("(component)").unwrap(), BODIES)
            .err()
            .unwrap();
    assert!(error.contains("expected a core module"), "{error}");
}

#[test]
fn the_linear_memory_at_instantiation_is_the_memorys_pages_and_the_active_data_only() {
    let (module, name) = BODIES_IMPORT;
    let wat = MODULE.replace("BODIES_IMPORT", &format!("{module:?} {name:?}"));
    let packed =
        component_packer::site_segment::move_in(&wat::parse_str(wat).unwrap(), BODIES).unwrap();
    let memory = component_packer::site_segment::linear_memory(&packed).unwrap();
    // One page, and the code's own data; the bodies' passive segment is in no instance's memory.
    assert_eq!(memory.initial_bytes, 65536);
    assert_eq!(memory.data_bytes, "the code's own data".len() as u64);
}
