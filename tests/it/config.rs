//! `grill config`: the settings in force and their sources; the key never shows.

use crate::util::Sandbox;

#[test]
fn sources_are_reported_and_the_key_never_shown() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("config/grill")).unwrap();
    std::fs::write(
        sb.path("config/grill/config.toml"),
        "model = \"file-model\"\nbase_url = \"http://file.example/v1\"\n",
    )
    .unwrap();
    std::fs::write(sb.path("work/.env"), "GRILL_MODEL=dotenv-model\nOPENAI_API_KEY=sk-dotenv-secret-123\n").unwrap();
    let run = sb.run_with(&["config", "--json"], "", &[("GRILL_BASE_URL", "http://env.example/v1")]);
    run.success();
    let v = run.json();
    let s = &v["settings"];
    assert_eq!(s["base_url"]["value"], "http://env.example/v1");
    assert_eq!(s["base_url"]["source"], "environment (GRILL_BASE_URL)");
    assert_eq!(s["model"]["value"], "dotenv-model");
    assert_eq!(s["model"]["source"], ".env (GRILL_MODEL)");
    assert_eq!(s["api_key"]["value"], "set");
    assert!(!run.stdout.contains("sk-dotenv-secret-123"));

    let run = sb.run_with(&["config", "--model", "flag-model"], "", &[]);
    run.success();
    assert!(run.stdout.contains("flag-model") && run.stdout.contains("command line"), "{}", run.stdout);
    assert!(!run.stdout.contains("sk-dotenv-secret-123"));
}

#[test]
fn a_bad_config_file_names_file_line_and_key() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("config/grill")).unwrap();
    std::fs::write(sb.path("config/grill/config.toml"), "model = \"m\"\nbase_ulr = \"x\"\n").unwrap();
    let run = sb.run(&["config"], "");
    run.code(1);
    assert!(run.stderr.contains("config.toml:2:1:") && run.stderr.contains("base_ulr"), "{}", run.stderr);
}

/// The README's configuration table is the settings table, row for row: a setting added,
/// renamed or given a new default shows up here until the README says so too.
#[test]
fn the_readme_lists_every_setting_as_the_table_declares_it() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let header = "| setting | flag | environment | config file key | default |";
    let rows: Vec<&str> =
        readme.lines().skip_while(|l| *l != header).skip(2).take_while(|l| l.starts_with('|')).collect();
    let expected: Vec<String> = grill::config::SETTINGS.iter().map(|s| s.markdown_row()).collect();
    assert_eq!(rows, expected, "README.md's configuration table differs from grill::config::SETTINGS");
}
