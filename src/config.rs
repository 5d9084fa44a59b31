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
    /// `.env` has a line that does not parse. Neither the line nor the value is kept:
    /// the line may hold the key.
    #[error("{}{}: {}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), match variable {
        Some(v) => format!("the value of {v} does not parse (a missing closing quote, or spaces without quotes?); the line is not shown, it may hold a secret"),
        None => "not a NAME=value line; the line is not shown, it may hold a secret".to_string(),
    })]
    DotEnv {
        /// The file.
        path: PathBuf,
        /// 1-based line where the bad entry starts, when it could be found.
        line: Option<usize>,
        /// The variable the line sets, when it names one.
        variable: Option<String>,
    },
    /// A setting has a value outside what it allows.
    #[error("{message}")]
    Invalid {
        /// What is wrong, naming the setting as it was spelt where it was set.
        message: String,
        /// Where the value came from, for the hint.
        from: Source,
    },
}

impl crate::error::Diagnose for ConfigError {
    fn exit(&self) -> crate::error::ExitStatus {
        crate::error::ExitStatus::Failure
    }

    /// A value given on the command line is fixed there; one from a file or the
    /// environment is fixed where it was set, and `grill config` shows the result.
    fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::Invalid { from: Source::Flag, .. } => "change the value given on the command line".into(),
            _ => "fix the file or variable named above, then run `grill config` to check".into(),
        })
    }
}

/// Bounds of the request time-out, in seconds: 0 would fail every request at once, and
/// past an hour a stalled server looks like a hung grill.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=3600;
/// Bounds of the connect time-out, in seconds.
pub const CONNECT_TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=300;

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
    pub fn resolve(inputs: &Inputs) -> Result<Settings, ConfigError> {
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

        // The first source that sets a value wins, and a value that does not parse is an
        // error rather than a fall-through: a misspelt `offline` must not end up sending
        // answers to a model.
        let grader = match inputs.flags.grader {
            Some(g) => Sourced { value: g, source: Source::Flag },
            None => match lookup(&inputs.env, &["GRILL_GRADER"])
                .map(|(n, v)| (v, Source::Env(n)))
                .or_else(|| lookup(&inputs.dotenv, &["GRILL_GRADER"]).map(|(n, v)| (v, Source::DotEnv(n))))
            {
                Some((v, source)) => Sourced { value: parse_grader(&v, &source)?, source },
                None => file
                    .and_then(|(p, f)| f.grader.map(|g| Sourced { value: g, source: Source::File(p.clone()) }))
                    .unwrap_or(Sourced { value: GraderChoice::Auto, source: Source::Default("best available") }),
            },
        };

        let transcripts = path(&inputs.flags.transcripts, &["GRILL_TRANSCRIPTS_DIR"], &|f| f.transcripts.clone())
            // Always the data folder, wherever grill runs: a `transcripts/` folder that
            // happens to be in the working directory must not capture sessions.
            .unwrap_or_else(|| match &inputs.data_dir {
                Some(data) => {
                    Sourced { value: data.join("transcripts"), source: Source::Default("platform data folder") }
                }
                None => Sourced {
                    value: PathBuf::from("transcripts"),
                    source: Source::Default("no data folder on this platform"),
                },
            });

        Ok(Settings {
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
            timeout: seconds(
                inputs,
                Seconds { flag: Some("--timeout"), name: "GRILL_TIMEOUT", key: "timeout", range: TIMEOUT_RANGE },
                inputs.flags.timeout,
                file.and_then(|(p, f)| f.timeout.map(|v| (p, v))),
                120,
            )?,
            connect_timeout: seconds(
                inputs,
                Seconds {
                    flag: None,
                    name: "GRILL_CONNECT_TIMEOUT",
                    key: "connect_timeout",
                    range: CONNECT_TIMEOUT_RANGE,
                },
                None,
                file.and_then(|(p, f)| f.connect_timeout.map(|v| (p, v))),
                5,
            )?,
            transcripts,
            config_file: None,
            data_dir: inputs.data_dir.clone(),
        })
    }
}

/// How a setting is spelt where it came from, for messages: `--timeout`, `GRILL_TIMEOUT
/// in the environment`, `timeout in the config file (path)`.
fn setting_at(source: &Source, flag: Option<&str>, name: &str, key: &str) -> String {
    match source {
        Source::Flag => flag.unwrap_or(name).to_string(),
        Source::Env(n) => format!("{n} in the environment"),
        Source::DotEnv(n) => format!("{n} in .env"),
        Source::File(p) => format!("`{key}` in the config file ({})", p.display()),
        Source::Default(_) => name.to_string(),
    }
}

/// A value as quoted back in a message: short, one line, nothing key-shaped.
fn quoted(value: &str) -> String {
    let value = crate::scrub::controls(value);
    let value = crate::scrub::redact(&value);
    crate::scrub::cap(&value, 40).replace('\n', " ")
}

fn parse_grader(value: &str, source: &Source) -> Result<GraderChoice, ConfigError> {
    if let Ok(g) = <GraderChoice as clap::ValueEnum>::from_str(value, true) {
        return Ok(g);
    }
    const NAMES: [&str; 3] = ["auto", "llm", "offline"];
    let lower = value.to_lowercase();
    let near = NAMES.iter().find(|n| crate::util::edit_distance(&lower, n) <= 2 && lower.len() > 2);
    let did_you_mean = near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
    Err(ConfigError::Invalid {
        message: format!(
            "{} must be one of {} (got `{}`{did_you_mean})",
            setting_at(source, Some("--grader"), "GRILL_GRADER", "grader"),
            NAMES.join(", "),
            quoted(value)
        ),
        from: source.clone(),
    })
}

/// The names of a setting in seconds, and what it allows.
struct Seconds {
    flag: Option<&'static str>,
    name: &'static str,
    key: &'static str,
    range: std::ops::RangeInclusive<u64>,
}

/// A whole number of seconds: flag, environment, `.env`, file, default. The first source
/// that sets it wins; a value that does not parse, or is out of range, is an error.
fn seconds(
    inputs: &Inputs,
    what: Seconds,
    flag: Option<u64>,
    file: Option<(&PathBuf, u64)>,
    default: u64,
) -> Result<Sourced<u64>, ConfigError> {
    let (raw, source) = match flag {
        Some(v) => (v.to_string(), Source::Flag),
        None => match lookup(&inputs.env, &[what.name])
            .map(|(n, v)| (v, Source::Env(n)))
            .or_else(|| lookup(&inputs.dotenv, &[what.name]).map(|(n, v)| (v, Source::DotEnv(n))))
        {
            Some(found) => found,
            None => match file {
                Some((p, v)) => (v.to_string(), Source::File(p.clone())),
                None => return Ok(Sourced { value: default, source: Source::Default("built in") }),
            },
        },
    };
    match raw.trim().parse::<u64>() {
        Ok(v) if what.range.contains(&v) => Ok(Sourced { value: v, source }),
        _ => Err(ConfigError::Invalid {
            message: format!(
                "{} must be a whole number of seconds from {} to {} (got `{}`)",
                setting_at(&source, what.flag, what.name, what.key),
                what.range.start(),
                what.range.end(),
                quoted(&raw)
            ),
            from: source,
        }),
    }
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
    let dot = Path::new(".env");
    let dotenv = if dot.is_file() { read_dotenv(dot)? } else { HashMap::new() };
    let dirs = directories::ProjectDirs::from("", "", "grill");
    let explicit = flags.config.clone().or_else(|| env.get("GRILL_CONFIG").map(PathBuf::from));
    let config_path = explicit.clone().or_else(|| dirs.as_ref().map(|d| d.config_dir().join("config.toml")));
    let mut file = None;
    let mut config_file = None;
    if let Some(path) = config_path {
        if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            // Reading a FIFO would block forever.
            let source = std::io::Error::other("not a regular file");
            return Err(ConfigError::Io { path, source });
        }
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
    let inputs = Inputs { flags: flags.clone(), env, dotenv, file, data_dir: dirs.map(|d| d.data_dir().to_path_buf()) };
    let mut settings = Settings::resolve(&inputs)?;
    settings.config_file = config_file;
    Ok(settings)
}

/// The pairs of a `.env` file. An error names the file, the line and the variable, never
/// the line itself: a malformed line is often the key with a quote missing.
fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    let mut pairs = HashMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((k, v)) => {
                pairs.insert(k, v);
            }
            Err(dotenvy::Error::LineParse(bad, _)) => {
                let (line, variable) = locate_dotenv_line(&text, &bad);
                return Err(ConfigError::DotEnv { path: path.to_path_buf(), line, variable });
            }
            Err(e) => {
                // Other errors (I/O, a bad substitution) carry no text of the file.
                let source = std::io::Error::other(e.to_string());
                return Err(ConfigError::Io { path: path.to_path_buf(), source });
            }
        }
    }
    Ok(pairs)
}

/// Where in `text` the entry `bad` (as the parser saw it) starts, and the variable it
/// sets when its name is a plain identifier.
fn locate_dotenv_line(text: &str, bad: &str) -> (Option<usize>, Option<String>) {
    let first = bad.lines().next().unwrap_or("");
    let line = [bad, first]
        .iter()
        .filter(|s| !s.trim().is_empty())
        .find_map(|s| text.find(*s))
        .map(|at| text[..at].matches('\n').count() + 1);
    // The parser may hand back only the part after `=`: the name is read from the file.
    let whole = line.and_then(|l| text.lines().nth(l - 1)).unwrap_or(first);
    let entry = whole.trim_start();
    let entry = entry.strip_prefix("export ").unwrap_or(entry);
    let variable = entry.split_once('=').map(|(name, _)| name.trim()).filter(|name| {
        let mut chars = name.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    });
    (line, variable.map(str::to_string))
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

        let s = Settings::resolve(&i).unwrap();
        assert_eq!(s.base_url.as_ref().unwrap().value, "http://flag/v1");
        assert_eq!(s.base_url.unwrap().source, Source::Flag);
        assert_eq!(s.model.unwrap().source, Source::DotEnv("GRILL_MODEL"));

        i.flags.base_url = None;
        let s = Settings::resolve(&i).unwrap();
        assert_eq!(s.base_url.unwrap().source, Source::Env("OPENAI_BASE_URL"));

        i.env.clear();
        i.dotenv.clear();
        let s = Settings::resolve(&i).unwrap();
        assert_eq!(s.base_url.unwrap().source, Source::File("/etc/grill.toml".into()));
    }

    #[test]
    fn grill_names_win_over_openai_names_and_the_old_alias_comes_last() {
        let mut i = inputs();
        i.env = map(&[("OPENAI_API_BASE", "http://old/v1"), ("OPENAI_BASE_URL", "http://new/v1")]);
        assert_eq!(Settings::resolve(&i).unwrap().base_url.unwrap().value, "http://new/v1");
        i.env.insert("GRILL_BASE_URL".into(), "http://grill/v1".into());
        assert_eq!(Settings::resolve(&i).unwrap().base_url.unwrap().value, "http://grill/v1");
        i.env = map(&[("OPENAI_API_KEY", "sk-one"), ("GRILL_API_KEY", "sk-two")]);
        let key = Settings::resolve(&i).unwrap().api_key.unwrap();
        assert_eq!(key.value.expose(), "sk-two");
        assert!(!format!("{key:?}").contains("sk-two"));
    }

    #[test]
    fn transcripts_default_to_the_data_folder() {
        let mut i = inputs();
        assert_eq!(Settings::resolve(&i).unwrap().transcripts.value, PathBuf::from("/data/grill/transcripts"));
        i.env = map(&[("GRILL_TRANSCRIPTS_DIR", "/tmp/t")]);
        assert_eq!(Settings::resolve(&i).unwrap().transcripts.value, PathBuf::from("/tmp/t"));
    }

    #[test]
    fn config_paths_are_relative_to_the_file_and_unknown_keys_fail() {
        let mut i = inputs();
        let cfg = parse_config(Path::new("/home/u/.config/grill/config.toml"), "bank = \"my-bank\"\n").unwrap();
        i.file = Some(("/home/u/.config/grill/config.toml".into(), cfg));
        assert_eq!(Settings::resolve(&i).unwrap().bank.unwrap().value, PathBuf::from("/home/u/.config/grill/my-bank"));

        let err = parse_config(Path::new("c.toml"), "model = \"m\"\nbase_ulr = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("c.toml:2:1:") && msg.contains("base_ulr"), "{msg}");
    }

    #[test]
    fn blank_values_count_as_unset() {
        let mut i = inputs();
        i.env = map(&[("GRILL_MODEL", "  ")]);
        assert!(Settings::resolve(&i).unwrap().model.is_none());
    }

    #[test]
    fn the_first_source_that_sets_a_value_must_be_valid() {
        let mut i = inputs();
        i.env = map(&[("GRILL_GRADER", "ofline")]);
        i.dotenv = map(&[("GRILL_GRADER", "offline")]);
        let err = Settings::resolve(&i).unwrap_err().to_string();
        assert_eq!(
            err,
            "GRILL_GRADER in the environment must be one of auto, llm, offline (got `ofline`; did you mean `offline`?)"
        );
        // A flag overrides, so the environment's value is not in force.
        i.flags.grader = Some(GraderChoice::Llm);
        assert_eq!(Settings::resolve(&i).unwrap().grader.value, GraderChoice::Llm);

        let mut i = inputs();
        i.env = map(&[("GRILL_TIMEOUT", "sk-abcdefghijklmnop1234")]);
        let err = Settings::resolve(&i).unwrap_err().to_string();
        assert_eq!(
            err,
            "GRILL_TIMEOUT in the environment must be a whole number of seconds from 1 to 3600 (got `[redacted]`)"
        );
        i.env = map(&[("GRILL_TIMEOUT", " 3600 "), ("GRILL_CONNECT_TIMEOUT", "1")]);
        let s = Settings::resolve(&i).unwrap();
        assert_eq!((s.timeout.value, s.connect_timeout.value), (3600, 1));
        i.flags.timeout = Some(3601);
        assert!(Settings::resolve(&i).is_err());
    }

    #[test]
    fn a_bad_dotenv_entry_is_located_without_its_value() {
        let text = "A=1\n# note\nexport GRILL_API_KEY=\"sk-x\nB=2\n";
        assert_eq!(
            locate_dotenv_line(text, "export GRILL_API_KEY=\"sk-x\nB=2\n"),
            (Some(3), Some("GRILL_API_KEY".into()))
        );
        assert_eq!(locate_dotenv_line("A=1\nK=two words\n", "two words"), (Some(2), Some("K".into())));
        assert_eq!(locate_dotenv_line("A=1\nsk-abc\n", "sk-abc"), (Some(2), None));
        assert_eq!(locate_dotenv_line("A=1\n", "elsewhere"), (None, None));
    }
}
