//! The crate's layering, as `lib.rs` states it, checked on the source: no import circle
//! between files, the fused engine never names the autograd backend, and the autograd
//! backend computes with the kernels and the fused engine's networks only through its custom
//! operations (`autograd/ops.rs` and its submodules; the shared random draws of
//! `kernels/noise.rs` aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every source file (path relative to `src/`, `/`-separated) and its text before any
/// `#[cfg(test)]` module, with line comments removed.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap();
                let code: Vec<&str> = code
                    .lines()
                    .map(|l| l.split("//").next().unwrap())
                    .collect();
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, code.join("\n"));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// The module path of a file (`fused/layers/mod.rs` -> `fused::layers`).
fn module_of(file: &str) -> String {
    let path = file.trim_end_matches(".rs");
    let path = path.trim_end_matches("/mod").trim_end_matches("lib");
    path.trim_end_matches('/').replace('/', "::")
}

/// The files each file names through a `crate::` path (or a `crate::a::{b, c}` group): the
/// longest prefix of the path that is a file's module.
fn imports(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let by_module: BTreeMap<String, String> =
        files.keys().map(|f| (module_of(f), f.clone())).collect();
    let resolve = |path: &str| -> Option<String> {
        let segments: Vec<&str> = path.split("::").filter(|s| *s != "self").collect();
        (1..=segments.len())
            .rev()
            .find_map(|k| by_module.get(&segments[..k].join("::")).cloned())
    };
    let mut graph = BTreeMap::new();
    for (file, code) in files {
        let mut named = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches(':');
            let mut paths = vec![path.to_string()];
            if rest[end..].starts_with('{') {
                let group = &rest[end + 1..rest[end..].find('}').map_or(end, |j| end + j)];
                paths = group
                    .split(',')
                    .map(|item| format!("{path}::{}", item.trim().split("::").next().unwrap()))
                    .collect();
            }
            for target in paths.iter().filter_map(|p| resolve(p)) {
                if &target != file && target != "lib.rs" {
                    named.insert(target);
                }
            }
        }
        graph.insert(file.clone(), named);
    }
    graph
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let graph = imports(&sources());
    // Depth-first search for a back edge, reporting the circle it closes.
    fn visit(
        file: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(file) {
            return;
        }
        if let Some(start) = path.iter().position(|f| f == file) {
            panic!("import circle: {} -> {file}", path[start..].join(" -> "));
        }
        path.push(file.to_string());
        for next in &graph[file] {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(file.to_string());
    }
    let mut done = BTreeSet::new();
    for file in graph.keys() {
        visit(file, &graph, &mut Vec::new(), &mut done);
    }
    // The check sees real imports: the fused engine's model names the interface.
    assert!(graph["fused/model.rs"].contains("model.rs"));
}

#[test]
fn the_backends_meet_only_in_the_custom_operations() {
    let graph = imports(&sources());
    for (file, named) in &graph {
        let autograd_side = file.starts_with("autograd/") || file.starts_with("families/");
        for target in named {
            if file.starts_with("fused/") {
                assert!(!target.starts_with("autograd/"), "{file} names {target}");
                assert!(!target.starts_with("families/"), "{file} names {target}");
            }
            if autograd_side {
                let bridge = file == "autograd/ops.rs" || file.starts_with("autograd/ops/");
                let kernel = target.starts_with("kernels/") && target != "kernels/noise.rs";
                assert!(!kernel || bridge, "{file} names {target}");
                // The bridge runs the fused engine's networks (a dense stack as one node), not
                // its models.
                let networks = target.starts_with("fused/layers/") || target == "fused/network.rs";
                let fused = target.starts_with("fused/");
                assert!(!fused || (bridge && networks), "{file} names {target}");
            }
        }
    }
    assert!(graph["autograd/ops.rs"].contains("kernels/matmul.rs"));
}
