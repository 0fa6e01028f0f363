//! Moves the site's blob of bodies into a passive data segment of the core module and turns the
//! import that reads it into a function of the module:
//!
//! ```text
//! (func (param $destination i32) (param $start i32) (param $len i32)
//!   local.get $destination  local.get $start  local.get $len
//!   memory.init $bodies 0)
//! ```
//!
//! `memory.init` traps on a range outside the segment, so a wrong span cannot read other data.
//! The rest of the module is re-encoded unchanged, except that every function index after the
//! removed import moves down by one and the import's own index becomes the new function's.

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{DataCountSection, DataSection, Function, Instruction, SectionId};
use wasmparser::{Parser, Payload, TypeRef, ValType};

use site_compiler::artifacts::BODIES_IMPORT;

/// `core_module` with `bodies` as its last data segment, passive, read by the function that
/// replaces [`BODIES_IMPORT`].
pub fn move_in(core_module: &[u8], bodies: &[u8]) -> Result<Vec<u8>, String> {
    let layout = Layout::scan(core_module)?;
    let mut mover = SiteSegment { layout, bodies };
    let mut module = wasm_encoder::Module::new();
    mover
        .parse_core_module(&mut module, Parser::new(0), core_module)
        .map_err(|e| format!("cannot re-encode the core module: {e}"))?;
    let module = module.finish();
    wasmparser::Validator::new()
        .validate_all(&module)
        .map_err(|e| format!("the core module with the site segment is not valid: {e}"))?;
    Ok(module)
}

/// A core module's linear memory when an instance starts: what a host that resets memory
/// after each request (Spin) rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearMemory {
    /// The memory's initial size: the stack, the code's data, the table.
    pub initial_bytes: u64,
    /// The bytes active data segments copy in: the code's data and the site's table (paths,
    /// types, ETags, `Link` values), never the bodies, which stay in the passive segment.
    pub data_bytes: u64,
}

/// The linear memory `core_module` starts with (its first memory).
pub fn linear_memory(core_module: &[u8]) -> Result<LinearMemory, String> {
    let mut memory = LinearMemory {
        initial_bytes: 0,
        data_bytes: 0,
    };
    for payload in Parser::new(0).parse_all(core_module) {
        match payload.map_err(|e| format!("not a valid core module: {e}"))? {
            Payload::MemorySection(reader) => {
                if let Some(first) = reader.into_iter().next() {
                    memory.initial_bytes = first.map_err(|e| e.to_string())?.initial * 65536;
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(|e| e.to_string())?;
                    if let wasmparser::DataKind::Active { .. } = data.kind {
                        memory.data_bytes += data.data.len() as u64;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(memory)
}

/// What the re-encoding needs to know before it starts.
struct Layout {
    /// The import's index in the function index space, and its type.
    import_index: u32,
    import_type: u32,
    /// Imported plus defined functions (unchanged: one import becomes one definition).
    functions: u32,
    data_segments: u32,
    has_data_count: bool,
}

impl Layout {
    fn scan(module: &[u8]) -> Result<Layout, String> {
        let (module_name, field) = BODIES_IMPORT;
        let mut import = None;
        let mut imported_functions = 0;
        let mut defined_functions = 0;
        let mut data_segments = 0;
        let mut has_data_count = false;
        let mut types = Vec::new();
        for payload in Parser::new(0).parse_all(module) {
            match payload.map_err(|e| format!("not a valid core module: {e}"))? {
                Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                    return Err(
                        "expected a core module (link with --skip-wit-component), got a component"
                            .into(),
                    );
                }
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        types.push(ty.map_err(|e| e.to_string())?);
                    }
                }
                Payload::ImportSection(reader) => {
                    for entry in reader.into_imports() {
                        let entry = entry.map_err(|e| e.to_string())?;
                        if let TypeRef::Func(ty) = entry.ty {
                            if (entry.module, entry.name) == (module_name, field) {
                                import = Some((imported_functions, ty));
                            }
                            imported_functions += 1;
                        }
                    }
                }
                Payload::FunctionSection(reader) => defined_functions = reader.count(),
                Payload::DataSection(reader) => data_segments = reader.count(),
                Payload::DataCountSection { .. } => has_data_count = true,
                _ => {}
            }
        }
        let Some((import_index, import_type)) = import else {
            return Err(format!(
                "the core module does not import `{module_name}` `{field}`: build it from \
                 component/, whose shell reads the site through that import"
            ));
        };
        let signature = types
            .get(import_type as usize)
            .map(|t| (t.params(), t.results()));
        if signature != Some((&[ValType::I32; 3][..], &[][..])) {
            return Err(format!(
                "`{module_name}` `{field}` must be (destination: i32, start: i32, len: i32) -> ()"
            ));
        }
        Ok(Layout {
            import_index,
            import_type,
            functions: imported_functions + defined_functions,
            data_segments,
            has_data_count,
        })
    }

    /// The index of the segment this step adds.
    fn bodies_segment(&self) -> u32 {
        self.data_segments
    }
}

struct SiteSegment<'a> {
    layout: Layout,
    bodies: &'a [u8],
}

impl SiteSegment<'_> {
    /// Appends the segment: after every existing one, so no data index changes.
    fn add_bodies(&self, data: &mut DataSection) {
        data.passive(self.bodies.iter().copied());
    }

    /// The entries of a name map keyed by function, re-indexed and in increasing order.
    fn by_new_index<T>(
        &mut self,
        entries: impl IntoIterator<Item = wasmparser::Result<(u32, T)>>,
    ) -> Result<Vec<(u32, T)>, reencode::Error<String>> {
        let mut sorted = Vec::new();
        for entry in entries {
            let (index, value) = entry?;
            sorted.push((self.function_index(index)?, value));
        }
        sorted.sort_by_key(|(index, _)| *index);
        Ok(sorted)
    }

    fn sorted_indirect(
        &mut self,
        map: wasmparser::IndirectNameMap<'_>,
    ) -> Result<wasm_encoder::IndirectNameMap, reencode::Error<String>> {
        let mut sorted = wasm_encoder::IndirectNameMap::new();
        let entries = map.into_iter().map(|n| n.map(|n| (n.index, n.names)));
        for (index, names) in self.by_new_index(entries)? {
            sorted.append(index, &reencode::utils::name_map(names, Ok)?);
        }
        Ok(sorted)
    }
}

impl Reencode for SiteSegment<'_> {
    type Error = String;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<String>> {
        let import = self.layout.import_index;
        Ok(match func.cmp(&import) {
            std::cmp::Ordering::Less => func,
            // The import's replacement is the last function of the module.
            std::cmp::Ordering::Equal => self.layout.functions - 1,
            std::cmp::Ordering::Greater => func - 1,
        })
    }

    /// Name maps list indices in increasing order, which moving the import's index to the end
    /// would break: the maps keyed by function are re-sorted (the others pass through).
    fn parse_custom_name_subsection(
        &mut self,
        names: &mut wasm_encoder::NameSection,
        section: wasmparser::Name<'_>,
    ) -> Result<(), reencode::Error<String>> {
        match section {
            wasmparser::Name::Function(map) => {
                let mut sorted = wasm_encoder::NameMap::new();
                for (index, name) in
                    self.by_new_index(map.into_iter().map(|n| n.map(|n| (n.index, n.name))))?
                {
                    sorted.append(index, name);
                }
                names.functions(&sorted);
            }
            wasmparser::Name::Local(map) => names.locals(&self.sorted_indirect(map)?),
            wasmparser::Name::Label(map) => names.labels(&self.sorted_indirect(map)?),
            other => reencode::utils::parse_custom_name_subsection(self, names, other)?,
        }
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        for entry in section.into_imports() {
            let entry = entry?;
            if (entry.module, entry.name) == BODIES_IMPORT {
                continue;
            }
            let ty = self.entity_type(entry.ty)?;
            imports.import(entry.module, entry.name, ty);
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        reencode::utils::parse_function_section(self, functions, section)?;
        let ty = self.type_index(self.layout.import_type)?;
        functions.function(ty);
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        reencode::utils::parse_code_section(self, code, section)?;
        let mut copy = Function::new([]);
        copy.instruction(&Instruction::LocalGet(0))
            .instruction(&Instruction::LocalGet(1))
            .instruction(&Instruction::LocalGet(2))
            .instruction(&Instruction::MemoryInit {
                mem: 0,
                data_index: self.layout.bodies_segment(),
            })
            .instruction(&Instruction::End);
        code.function(&copy);
        Ok(())
    }

    fn data_count(&mut self, count: u32) -> Result<u32, reencode::Error<String>> {
        Ok(count + 1)
    }

    fn parse_data_section(
        &mut self,
        data: &mut DataSection,
        section: wasmparser::DataSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        reencode::utils::parse_data_section(self, data, section)?;
        self.add_bodies(data);
        Ok(())
    }

    /// `memory.init` needs a data count section before the code (WebAssembly 2.0 §5.5.16),
    /// and a module without data needs a data section for the new segment.
    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), reencode::Error<String>> {
        if before == Some(SectionId::Code) && !self.layout.has_data_count {
            module.section(&DataCountSection {
                count: self.layout.data_segments + 1,
            });
        }
        if after == Some(SectionId::Code) && before != Some(SectionId::Data) {
            let mut data = DataSection::new();
            self.add_bodies(&mut data);
            module.section(&data);
        }
        Ok(())
    }
}
