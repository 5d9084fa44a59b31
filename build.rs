//! Embeds the shipped question bank and prompt templates in the binary, so an installed
//! `grill` works from any folder. Every `*.toml` under `question_bank/`, every `*.hbs`
//! under `prompts/` and every `*.toml` of the calibration set (`question_bank/calibration/`)
//! is included; adding a file needs no code change.

use std::env;
use std::fs;
use std::path::Path;

fn embed(root: &Path, out: &Path, folder: &str, ext: &str, name: &str, doc: &str) {
    let dir = root.join(folder);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = format!("/// {doc}: (file name, contents), sorted by name.\n");
    code.push_str(&format!("pub(crate) static {name}: &[(&str, &str)] = &[\n"));
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let file = path.file_name().unwrap().to_string_lossy();
        code.push_str(&format!("    ({file:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    code.push_str("];\n");
    fs::write(out.join(format!("{}.rs", name.to_lowercase())), code).expect("OUT_DIR is writable");
}

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let (root, out) = (Path::new(&root), Path::new(&out));
    embed(root, out, "question_bank", "toml", "EMBEDDED_BANK", "The shipped bank");
    embed(root, out, "prompts", "hbs", "EMBEDDED_PROMPTS", "The shipped prompt templates");
    embed(root, out, "question_bank/calibration", "toml", "EMBEDDED_CALIBRATION", "The shipped calibration set");
}
