//! `docs/architecture.md` is kept true by this test: its table of modules and what each
//! may import must equal the `crate::` imports found in `src/`, and those must form a graph
//! without cycles. A new arrow is a decision, made in the doc and the code together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level modules of the crate and the crate-level modules each one names.
fn imports() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let module_dir = path.is_dir() && path.join("mod.rs").is_file();
        if module_dir || (path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main") {
            modules.insert(name);
        }
    }
    let mut graph: Graph = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    let mut files = vec![src.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let owner = first.trim_end_matches(".rs").to_string();
        if !modules.contains(&owner) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Tests may reach anywhere; the architecture is about what ships. Comments name
        // modules without importing them.
        let shipped = text.split("#[cfg(test)]").next().unwrap();
        let code: String = shipped.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        for used in crate_paths(&code) {
            if used != owner && modules.contains(&used) {
                graph.get_mut(&owner).unwrap().insert(used);
            }
        }
    }
    graph
}

/// Every top-level module named after `crate::`, including inside `use crate::{a, b::c}`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for item in split_top_level(&group[..end]) {
                found.push(first_ident(item.trim()));
            }
            rest = &group[end..];
        } else {
            found.push(first_ident(rest));
        }
    }
    found.into_iter().filter(|s| !s.is_empty()).collect()
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn first_ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// The doc's table: `| module | may import |` rows, the imports as `code` spans.
fn documented() -> Graph {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md");
    let text = std::fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    let mut graph = Graph::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, module, imports, ..] = cells.as_slice() else { continue };
        let Some(module) = module.strip_prefix('`').and_then(|m| m.strip_suffix('`')) else { continue };
        let deps = imports.split(',').map(str::trim).filter_map(|d| d.strip_prefix('`')?.strip_suffix('`'));
        graph.insert(module.to_string(), deps.map(str::to_string).collect());
    }
    graph
}

fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(n: &str, g: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut c = path[at..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_module_graph_is_the_documented_one() {
    let actual = imports();
    let doc = documented();
    let show = |g: &Graph| {
        g.iter()
            .map(|(m, d)| format!("| `{m}` | {} |", d.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(show(&doc), show(&actual), "docs/architecture.md's table (left) against the imports in src/ (right)");
}

#[test]
fn the_module_graph_has_no_cycle() {
    assert_eq!(cycle(&imports()), None);
}

/// The session is the pure core, which the terminal never reaches: no line editor,
/// no spinner, no printing, no network, no threads.
#[test]
fn the_session_state_machine_touches_no_terminal_disk_or_network() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/session");
    let forbidden = [
        "rustyline",
        "indicatif",
        "reqwest",
        "tokio",
        "println!",
        "print!",
        "stdout",
        "stdin",
        "std::fs",
        "thread::spawn",
    ];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let shipped = text.split("#[cfg(test)]").next().unwrap();
        for word in forbidden {
            if shipped.lines().any(|l| l.split("//").next().unwrap_or("").contains(word)) {
                found.push(format!("{}: {word}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_import_scanner_reads_grouped_and_nested_paths() {
    let code = "use crate::{bank::{Bank, Rubric}, grade};\nlet x = crate::style::Style::new(true);";
    assert_eq!(crate_paths(code), ["bank", "grade", "style"]);
}
