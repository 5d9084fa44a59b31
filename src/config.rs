//! Settings, resolved in one place: command-line flag, then environment, then `.env` in
//! the working directory, then the config file, then defaults. Every value remembers
//! where it came from, for `grill config`.
//!
//! [`Settings::resolve`] is pure (it takes the environment and files as values); [`load`]
//! does the reading.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{GlobalArgs, GraderChoice};

/// An API key. It never prints: `Debug` shows `***`, and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a key, and registers it with [`crate::scrub`] so that no text shown or
    /// stored from then on can carry it, whatever a server sends back.
    pub fn new(s: impl Into<String>) -> Secret {
        let s = s.into();
        crate::scrub::secret(&s);
        Secret(s)
    }

    /// The key itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Env(&'static str),
    /// A line of `.env` in the working directory.
    DotEnv(&'static str),
    /// The config file.
    File(PathBuf),
    /// The built-in default, with why it applies.
    Default(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("command line"),
            Source::Env(name) => write!(f, "environment ({name})"),
            Source::DotEnv(name) => write!(f, ".env ({name})"),
            Source::File(p) => write!(f, "config file ({})", p.display()),
            Source::Default(why) => write!(f, "default ({why})"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Its origin.
    pub source: Source,
}

/// The config file's contents. Unknown keys are errors, so a typo is never ignored.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// OpenAI-compatible endpoint.
    pub base_url: Option<String>,
    /// API key (prefer the environment; if kept here, keep the file private).
    pub api_key: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Where Ollama listens.
    pub ollama_host: Option<String>,
    /// Which grader.
    pub grader: Option<GraderChoice>,
    /// Bank folder (relative to the config file).
    pub bank: Option<PathBuf>,
    /// Transcript folder (relative to the config file).
    pub transcripts: Option<PathBuf>,
    /// Prompt template folder (relative to the config file).
    pub prompts: Option<PathBuf>,
    /// Seconds a grading request may take.
    pub timeout: Option<u64>,
    /// Seconds to wait for a connection.
    pub connect_timeout: Option<u64>,
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file is not valid.
    #[error("{}:{line}:{column}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `.env` has a line that does not parse.
    #[error(".env: {0}")]
    DotEnv(String),
}

/// Everything settings are resolved from, as values.
#[derive(Debug, Default)]
pub struct Inputs {
    /// The flags given.
    pub flags: GlobalArgs,
    /// The process environment.
    pub env: HashMap<String, String>,
    /// The pairs of `.env`.
    pub dotenv: HashMap<String, String>,
    /// The config file, if one was read.
    pub file: Option<(PathBuf, ConfigFile)>,
    /// Whether `./transcripts` exists.
    pub local_transcripts: bool,
    /// The platform data folder for grill.
    pub data_dir: Option<PathBuf>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    /// OpenAI-compatible endpoint.
    pub base_url: Option<Sourced<String>>,
    /// API key.
    pub api_key: Option<Sourced<Secret>>,
    /// Model name.
    pub model: Option<Sourced<String>>,
    /// Where Ollama listens.
    pub ollama_host: Option<Sourced<String>>,
    /// Which grader.
    pub grader: Sourced<GraderChoice>,
    /// Bank folder; `None` means the built-in bank.
    pub bank: Option<Sourced<PathBuf>>,
    /// Transcript folder.
    pub transcripts: Sourced<PathBuf>,
    /// Prompt template folder; `None` means the built-in templates.
    pub prompts: Option<Sourced<PathBuf>>,
    /// Seconds a grading request may take.
    pub timeout: Sourced<u64>,
    /// Seconds to wait for a connection.
    pub connect_timeout: Sourced<u64>,
    /// The config file consulted, and whether it existed.
    pub config_file: Option<(PathBuf, bool)>,
    /// The platform data folder (history and caches).
    pub data_dir: Option<PathBuf>,
}

impl Settings {
    /// Resolves every setting: flag, then environment, then `.env`, then config file,
    /// then default.
    pub fn resolve(inputs: &Inputs) -> Settings {
        let file = inputs.file.as_ref();
        let from_file = |get: &dyn Fn(&ConfigFile) -> Option<String>| {
            file.and_then(|(p, f)| get(f).map(|v| Sourced { value: v, source: Source::File(p.clone()) }))
        };
        let string = |flag: &Option<String>, names: &[&'static str], get: &dyn Fn(&ConfigFile) -> Option<String>| {
            flag.clone()
                .map(|v| Sourced { value: v, source: Source::Flag })
                .or_else(|| lookup(&inputs.env, names).map(|(n, v)| Sourced { value: v, source: Source::Env(n) }))
                .or_else(|| lookup(&inputs.dotenv, names).map(|(n, v)| Sourced { value: v, source: Source::DotEnv(n) }))
                .or_else(|| from_file(get))
        };
        let relative_to_file = |p: PathBuf| match file {
            Some((cfg, _)) if p.is_relative() => cfg.parent().unwrap_or(Path::new(".")).join(p),
            _ => p,
        };
        let path = |flag: &Option<PathBuf>, names: &[&'static str], get: &dyn Fn(&ConfigFile) -> Option<PathBuf>| {
            flag.clone()
                .map(|v| Sourced { value: v, source: Source::Flag })
                .or_else(|| {
                    lookup(&inputs.env, names).map(|(n, v)| Sourced { value: v.into(), source: Source::Env(n) })
                })
                .or_else(|| {
                    lookup(&inputs.dotenv, names).map(|(n, v)| Sourced { value: v.into(), source: Source::DotEnv(n) })
                })
                .or_else(|| {
                    file.and_then(|(p, f)| {
                        get(f).map(|v| Sourced { value: relative_to_file(v), source: Source::File(p.clone()) })
                    })
                })
        };

        let grader = inputs
            .flags
            .grader
            .map(|g| Sourced { value: g, source: Source::Flag })
            .or_else(|| {
                let parse = |v: &str| <GraderChoice as clap::ValueEnum>::from_str(v, true).ok();
                lookup(&inputs.env, &["GRILL_GRADER"])
                    .and_then(|(n, v)| parse(&v).map(|g| Sourced { value: g, source: Source::Env(n) }))
                    .or_else(|| {
                        lookup(&inputs.dotenv, &["GRILL_GRADER"])
                            .and_then(|(n, v)| parse(&v).map(|g| Sourced { value: g, source: Source::DotEnv(n) }))
                    })
            })
            .or_else(|| file.and_then(|(p, f)| f.grader.map(|g| Sourced { value: g, source: Source::File(p.clone()) })))
            .unwrap_or(Sourced { value: GraderChoice::Auto, source: Source::Default("best available") });

        let transcripts = path(&inputs.flags.transcripts, &["GRILL_TRANSCRIPTS_DIR"], &|f| f.transcripts.clone())
            .unwrap_or_else(|| {
                if inputs.local_transcripts || inputs.data_dir.is_none() {
                    Sourced { value: PathBuf::from("transcripts"), source: Source::Default("./transcripts exists") }
                } else {
                    let dir = inputs.data_dir.clone().unwrap_or_default().join("transcripts");
                    Sourced { value: dir, source: Source::Default("platform data folder") }
                }
            });

        Settings {
            base_url: string(&inputs.flags.base_url, &["GRILL_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE"], &|f| {
                f.base_url.clone()
            }),
            api_key: string(&None, &["GRILL_API_KEY", "OPENAI_API_KEY"], &|f| f.api_key.clone())
                .map(|s| Sourced { value: Secret::new(s.value), source: s.source }),
            model: string(&inputs.flags.model, &["GRILL_MODEL"], &|f| f.model.clone()),
            ollama_host: string(&None, &["OLLAMA_HOST"], &|f| f.ollama_host.clone()),
            grader,
            bank: path(&inputs.flags.bank, &["GRILL_BANK"], &|f| f.bank.clone()),
            prompts: path(&inputs.flags.prompts, &["GRILL_PROMPTS"], &|f| f.prompts.clone()),
            timeout: number(
                inputs,
                inputs.flags.timeout,
                "GRILL_TIMEOUT",
                file.and_then(|(p, f)| f.timeout.map(|v| (p, v))),
                120,
            ),
            connect_timeout: number(
                inputs,
                None,
                "GRILL_CONNECT_TIMEOUT",
                file.and_then(|(p, f)| f.connect_timeout.map(|v| (p, v))),
                5,
            ),
            transcripts,
            config_file: None,
            data_dir: inputs.data_dir.clone(),
        }
    }
}

/// A whole number of seconds: flag, environment, `.env`, file, default. A value that
/// does not parse is skipped (and `grill config` shows which one won).
fn number(
    inputs: &Inputs,
    flag: Option<u64>,
    name: &'static str,
    file: Option<(&PathBuf, u64)>,
    default: u64,
) -> Sourced<u64> {
    let parse = |map: &HashMap<String, String>| map.get(name).and_then(|v| v.trim().parse().ok());
    flag.map(|v| Sourced { value: v, source: Source::Flag })
        .or_else(|| parse(&inputs.env).map(|v| Sourced { value: v, source: Source::Env(name) }))
        .or_else(|| parse(&inputs.dotenv).map(|v| Sourced { value: v, source: Source::DotEnv(name) }))
        .or_else(|| file.map(|(p, v)| Sourced { value: v, source: Source::File(p.clone()) }))
        .unwrap_or(Sourced { value: default, source: Source::Default("built in") })
}

fn lookup(map: &HashMap<String, String>, names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|n| map.get(*n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v.trim().to_string())))
}

/// Parses a config file's text.
pub fn parse_config(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigError::File { path: path.to_path_buf(), line, column, message: e.message().trim().to_string() }
    })
}

/// Reads the environment, `.env` and the config file, and resolves the settings.
pub fn load(flags: &GlobalArgs) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> =
        std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
    let mut dotenv = HashMap::new();
    let dot = Path::new(".env");
    if dot.is_file() {
        let iter = dotenvy::from_path_iter(dot).map_err(|e| ConfigError::DotEnv(e.to_string()))?;
        for item in iter {
            let (k, v) = item.map_err(|e| ConfigError::DotEnv(e.to_string()))?;
            dotenv.insert(k, v);
        }
    }
    let dirs = directories::ProjectDirs::from("", "", "grill");
    let explicit = flags.config.clone().or_else(|| env.get("GRILL_CONFIG").map(PathBuf::from));
    let config_path = explicit.clone().or_else(|| dirs.as_ref().map(|d| d.config_dir().join("config.toml")));
    let mut file = None;
    let mut config_file = None;
    if let Some(path) = config_path {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                file = Some((path.clone(), parse_config(&path, &text)?));
                config_file = Some((path, true));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                config_file = Some((path, false))
            }
            Err(source) => return Err(ConfigError::Io { path, source }),
        }
    }
    let inputs = Inputs {
        flags: flags.clone(),
        env,
        dotenv,
        file,
        local_transcripts: Path::new("transcripts").is_dir(),
        data_dir: dirs.map(|d| d.data_dir().to_path_buf()),
    };
    let mut settings = Settings::resolve(&inputs);
    settings.config_file = config_file;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn inputs() -> Inputs {
        Inputs { data_dir: Some("/data/grill".into()), ..Inputs::default() }
    }

    #[test]
    fn flag_beats_env_beats_dotenv_beats_file() {
        let file = ConfigFile {
            base_url: Some("http://file/v1".into()),
            model: Some("file-model".into()),
            ..Default::default()
        };
        let mut i = inputs();
        i.file = Some(("/etc/grill.toml".into(), file));
        i.dotenv = map(&[("GRILL_BASE_URL", "http://dotenv/v1"), ("GRILL_MODEL", "dot-model")]);
        i.env = map(&[("OPENAI_BASE_URL", "http://env/v1")]);
        i.flags.base_url = Some("http://flag/v1".into());

        let s = Settings::resolve(&i);
        assert_eq!(s.base_url.as_ref().unwrap().value, "http://flag/v1");
        assert_eq!(s.base_url.unwrap().source, Source::Flag);
        assert_eq!(s.model.unwrap().source, Source::DotEnv("GRILL_MODEL"));

        i.flags.base_url = None;
        let s = Settings::resolve(&i);
        assert_eq!(s.base_url.unwrap().source, Source::Env("OPENAI_BASE_URL"));

        i.env.clear();
        i.dotenv.clear();
        let s = Settings::resolve(&i);
        assert_eq!(s.base_url.unwrap().source, Source::File("/etc/grill.toml".into()));
    }

    #[test]
    fn grill_names_win_over_openai_names_and_the_old_alias_comes_last() {
        let mut i = inputs();
        i.env = map(&[("OPENAI_API_BASE", "http://old/v1"), ("OPENAI_BASE_URL", "http://new/v1")]);
        assert_eq!(Settings::resolve(&i).base_url.unwrap().value, "http://new/v1");
        i.env.insert("GRILL_BASE_URL".into(), "http://grill/v1".into());
        assert_eq!(Settings::resolve(&i).base_url.unwrap().value, "http://grill/v1");
        i.env = map(&[("OPENAI_API_KEY", "sk-one"), ("GRILL_API_KEY", "sk-two")]);
        let key = Settings::resolve(&i).api_key.unwrap();
        assert_eq!(key.value.expose(), "sk-two");
        assert!(!format!("{key:?}").contains("sk-two"));
    }

    #[test]
    fn transcripts_default_to_the_local_folder_only_when_it_exists() {
        let mut i = inputs();
        assert_eq!(Settings::resolve(&i).transcripts.value, PathBuf::from("/data/grill/transcripts"));
        i.local_transcripts = true;
        assert_eq!(Settings::resolve(&i).transcripts.value, PathBuf::from("transcripts"));
        i.env = map(&[("GRILL_TRANSCRIPTS_DIR", "/tmp/t")]);
        assert_eq!(Settings::resolve(&i).transcripts.value, PathBuf::from("/tmp/t"));
    }

    #[test]
    fn config_paths_are_relative_to_the_file_and_unknown_keys_fail() {
        let mut i = inputs();
        let cfg = parse_config(Path::new("/home/u/.config/grill/config.toml"), "bank = \"my-bank\"\n").unwrap();
        i.file = Some(("/home/u/.config/grill/config.toml".into(), cfg));
        assert_eq!(Settings::resolve(&i).bank.unwrap().value, PathBuf::from("/home/u/.config/grill/my-bank"));

        let err = parse_config(Path::new("c.toml"), "model = \"m\"\nbase_ulr = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("c.toml:2:1:") && msg.contains("base_ulr"), "{msg}");
    }

    #[test]
    fn blank_values_count_as_unset() {
        let mut i = inputs();
        i.env = map(&[("GRILL_MODEL", "  ")]);
        assert!(Settings::resolve(&i).model.is_none());
    }
}
