//! Embeds the shipped question bank (and later the prompt templates) in the binary, so an
//! installed `grill` works from any folder. Every `*.toml` under `question_bank/` is
//! included; adding a topic file needs no code change.

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let bank = Path::new(&root).join("question_bank");
    println!("cargo:rerun-if-changed={}", bank.display());

    let mut files: Vec<_> = fs::read_dir(&bank)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut code = String::from("/// The shipped bank: (file name, contents), sorted by name.\n");
    code.push_str("pub(crate) static EMBEDDED_BANK: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(Path::new(&out).join("embedded_bank.rs"), code).expect("OUT_DIR is writable");
}
