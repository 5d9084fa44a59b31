//! Settings, resolved in one place: command-line flag, then environment, then `.env` in
//! the working directory, then the config file, then defaults. Every value remembers
//! where it came from, for `grill config`.
//!
//! Each setting is declared once, in [`SETTINGS`]: its names (flag, environment, config
//! file key), its default and why, and how its value is read. That table drives
//! [`Settings::resolve`], `grill config` and the README's table (a test compares them).
//!
//! [`Settings::resolve`] is pure (it takes the environment and files as values); [`load`]
//! does the reading.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

/// Which grader grades answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraderChoice {
    /// The best available: the configured endpoint, else a local Ollama, else offline
    Auto,
    /// A model: the configured endpoint, or a local Ollama
    Llm,
    /// The offline key-point grader (no model, no network)
    Offline,
}

impl GraderChoice {
    /// The name as typed: `auto`, `llm`, `offline`.
    pub fn name(self) -> &'static str {
        match self {
            GraderChoice::Auto => "auto",
            GraderChoice::Llm => "llm",
            GraderChoice::Offline => "offline",
        }
    }
}

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

/// One setting: every name it goes by, its default, and how its value is read.
#[derive(Debug)]
pub struct Setting {
    /// What it is, for people: "endpoint".
    pub name: &'static str,
    /// Its key in the config file, also its name in `grill config`.
    pub key: &'static str,
    /// Its command-line flag, if it has one.
    pub flag: Option<Flag>,
    /// The environment variables (also read from `.env`) that set it, first wins.
    pub env: &'static [&'static str],
    /// What applies when nothing sets it.
    pub default: Fallback,
    /// How a value is read and checked.
    pub kind: Kind,
}

/// A setting's flag and where [`Flags`] keeps its value.
#[derive(Debug)]
pub struct Flag {
    /// `--timeout`.
    pub long: &'static str,
    /// The value given, if any.
    pub get: fn(&Flags) -> Option<OsString>,
}

/// How an unset setting with no default value is shown.
pub const NOT_SET: &str = "(not set)";

/// How a setting whose default is compiled into grill is shown.
pub const BUILT_IN: &str = "built-in";

/// What applies when no source sets a setting.
#[derive(Debug)]
pub struct Fallback {
    /// The default as shown: a value, or what happens instead ("built-in").
    pub shown: &'static str,
    /// Why it is the default.
    pub why: &'static str,
    /// Whether `shown` is a value, read like any other; if not, the setting stays unset
    /// and what uses it decides.
    pub is_value: bool,
}

/// How a setting's value is read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Free text.
    Text,
    /// A URL or host, shown without any `user:password@` it holds.
    Url,
    /// A key: never shown.
    Secret,
    /// A path; in the config file, relative to the file.
    Path,
    /// Paths: a list in the config file (or one string), separated like `PATH` in the
    /// environment, one per flag on the command line; relative to the config file there.
    Paths,
    /// `on` or `off` (in the config file also `true` or `false`).
    Switch,
    /// `auto`, `llm` or `offline`.
    Grader,
    /// A whole number of seconds in a range.
    Seconds(RangeInclusive<u64>),
    /// A whole number of times in a range.
    Count(RangeInclusive<u64>),
    /// A calendar date, `YYYY-MM-DD`; kept as [`Value::Text`] once checked.
    Date,
}

/// A setting's value, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text or a URL.
    Text(String),
    /// A key.
    Secret(Secret),
    /// A path.
    Path(PathBuf),
    /// Paths, in order.
    Paths(Vec<PathBuf>),
    /// On or off.
    Switch(bool),
    /// A grader.
    Grader(GraderChoice),
    /// Seconds.
    Seconds(u64),
    /// A count.
    Count(u64),
}

/// Bounds of the request time-out, in seconds: 0 would fail every request at once, and
/// past an hour a stalled server looks like a hung grill.
pub const TIMEOUT_RANGE: RangeInclusive<u64> = 1..=3600;
/// Bounds of the connect time-out, in seconds.
pub const CONNECT_TIMEOUT_RANGE: RangeInclusive<u64> = 1..=300;
/// Bounds of the grades taken per answer: each is a full request.
pub const SAMPLES_RANGE: RangeInclusive<u64> = 1..=9;
/// Bounds of the new questions a day: past a hundred, a day's reviews could not keep up.
pub const NEW_PER_DAY_RANGE: RangeInclusive<u64> = 0..=100;

/// OpenAI-compatible endpoint.
pub static BASE_URL: Setting = Setting {
    name: "endpoint",
    key: "base_url",
    flag: Some(Flag { long: "--base-url", get: |f| f.base_url.clone().map(OsString::from) }),
    env: &["GRILL_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE"],
    default: Fallback { shown: NOT_SET, why: "a local Ollama is asked instead", is_value: false },
    kind: Kind::Url,
};
/// API key. It has no flag: a flag's value shows in the process list and shell history.
pub static API_KEY: Setting = Setting {
    name: "API key",
    key: "api_key",
    flag: None,
    env: &["GRILL_API_KEY", "OPENAI_API_KEY"],
    default: Fallback { shown: NOT_SET, why: "local servers need no key", is_value: false },
    kind: Kind::Secret,
};
/// Model name.
pub static MODEL: Setting = Setting {
    name: "model",
    key: "model",
    flag: Some(Flag { long: "--model", get: |f| f.model.clone().map(OsString::from) }),
    env: &["GRILL_MODEL"],
    default: Fallback { shown: NOT_SET, why: "the server's only model, or Ollama's newest", is_value: false },
    kind: Kind::Text,
};
/// Where Ollama listens.
pub static OLLAMA_HOST: Setting = Setting {
    name: "Ollama host",
    key: "ollama_host",
    flag: None,
    env: &["OLLAMA_HOST"],
    default: Fallback { shown: "127.0.0.1:11434", why: "Ollama's own", is_value: false },
    kind: Kind::Url,
};
/// Which grader.
pub static GRADER: Setting = Setting {
    name: "grader",
    key: "grader",
    flag: Some(Flag { long: "--grader", get: |f| f.grader.map(|g| g.name().into()) }),
    env: &["GRILL_GRADER"],
    default: Fallback { shown: "auto", why: "the best available", is_value: true },
    kind: Kind::Grader,
};
/// Seconds a whole grading may take.
pub static TIMEOUT: Setting = Setting {
    name: "request time-out (s)",
    key: "timeout",
    flag: Some(Flag { long: "--timeout", get: |f| f.timeout.map(|t| t.to_string().into()) }),
    env: &["GRILL_TIMEOUT"],
    default: Fallback { shown: "120", why: "a local model on a CPU can take minutes", is_value: true },
    kind: Kind::Seconds(TIMEOUT_RANGE),
};
/// Seconds to wait for a connection.
pub static CONNECT_TIMEOUT: Setting = Setting {
    name: "connect time-out (s)",
    key: "connect_timeout",
    flag: None,
    env: &["GRILL_CONNECT_TIMEOUT"],
    default: Fallback { shown: "5", why: "a server that is up answers at once", is_value: true },
    kind: Kind::Seconds(CONNECT_TIMEOUT_RANGE),
};
/// Grades taken of each answer by a model, voted per key point.
pub static SAMPLES: Setting = Setting {
    name: "samples per answer",
    key: "samples",
    flag: Some(Flag { long: "--samples", get: |f| f.samples.map(|n| n.to_string().into()) }),
    env: &["GRILL_SAMPLES"],
    default: Fallback { shown: "1", why: "one grade; more take the majority verdict per key point", is_value: true },
    kind: Kind::Count(SAMPLES_RANGE),
};
/// Prompt template folder.
pub static PROMPTS: Setting = Setting {
    name: "prompt templates",
    key: "prompts",
    flag: Some(Flag { long: "--prompts", get: |f| f.prompts.clone().map(OsString::from) }),
    env: &["GRILL_PROMPTS"],
    default: Fallback { shown: BUILT_IN, why: "compiled into grill", is_value: false },
    kind: Kind::Path,
};
/// Bank folders, layered over the built-in bank.
pub static BANKS: Setting = Setting {
    name: "bank folders",
    key: "banks",
    // Repeated `--bank` flags travel as one path list, as the environment variable does.
    flag: Some(Flag {
        long: "--bank",
        get: |f| (!f.banks.is_empty()).then(|| std::env::join_paths(&f.banks).unwrap_or_default()),
    }),
    env: &["GRILL_BANKS", "GRILL_BANK"],
    default: Fallback { shown: NOT_SET, why: "the built-in bank alone", is_value: false },
    kind: Kind::Paths,
};
/// Whether the built-in bank is read.
pub static BUILTIN_BANK: Setting = Setting {
    name: "built-in bank",
    key: "builtin_bank",
    flag: Some(Flag { long: "--no-builtin-bank", get: |f| f.no_builtin_bank.then(|| OsString::from("off")) }),
    env: &["GRILL_BUILTIN_BANK"],
    default: Fallback { shown: "on", why: "your folders add to it", is_value: true },
    kind: Kind::Switch,
};
/// Transcript folder.
pub static TRANSCRIPTS: Setting = Setting {
    name: "transcripts",
    key: "transcripts",
    flag: Some(Flag { long: "--transcripts", get: |f| f.transcripts.clone().map(OsString::from) }),
    env: &["GRILL_TRANSCRIPTS_DIR"],
    default: Fallback {
        shown: "$XDG_DATA_HOME/grill/transcripts",
        why: "the platform data folder, wherever grill runs",
        is_value: false,
    },
    kind: Kind::Path,
};
/// Questions never seen that `grill practice --due` brings in per calendar day.
pub static NEW_PER_DAY: Setting = Setting {
    name: "new questions a day",
    key: "new_per_day",
    flag: None,
    env: &["GRILL_NEW_PER_DAY"],
    default: Fallback { shown: "5", why: "a steady trickle, as Anki does; 0 brings in none", is_value: true },
    kind: Kind::Count(NEW_PER_DAY_RANGE),
};
/// The day of the interview `grill plan` and `grill stats` forecast for.
pub static INTERVIEW_DATE: Setting = Setting {
    name: "interview date",
    key: "interview_date",
    flag: Some(Flag { long: "--interview", get: |f| f.interview.clone().map(OsString::from) }),
    env: &["GRILL_INTERVIEW_DATE"],
    default: Fallback { shown: NOT_SET, why: "no forecast until one is set", is_value: false },
    kind: Kind::Date,
};

/// Whether practice asks for the user's word on each offline grade. Its flag only turns
/// it off: on is the default.
pub static CONFIRM: Setting = Setting {
    name: "confirm offline verdicts",
    key: "confirm",
    flag: Some(Flag { long: "--no-confirm", get: |f| f.no_confirm.then(|| "off".into()) }),
    env: &["GRILL_CONFIRM"],
    default: Fallback { shown: "on", why: "the offline grader measures coverage, not correctness", is_value: true },
    kind: Kind::Switch,
};

/// Every setting, in the order `grill config` and the README list them.
pub static SETTINGS: [&Setting; 15] = [
    &BASE_URL,
    &API_KEY,
    &MODEL,
    &OLLAMA_HOST,
    &GRADER,
    &TIMEOUT,
    &CONNECT_TIMEOUT,
    &SAMPLES,
    &PROMPTS,
    &BANKS,
    &BUILTIN_BANK,
    &TRANSCRIPTS,
    &NEW_PER_DAY,
    &INTERVIEW_DATE,
    &CONFIRM,
];

impl Setting {
    /// The setting's row of the README's configuration table.
    pub fn markdown_row(&self) -> String {
        let code = |s: &str| format!("`{s}`");
        // A value or a path is code; a description of what happens instead is not.
        let default = match self.default.shown {
            NOT_SET => format!("none: {}", self.default.why),
            BUILT_IN => format!("{BUILT_IN} ({})", self.default.why),
            value => format!("{} ({})", code(value), self.default.why),
        };
        let cells = [
            self.name.to_string(),
            self.flag.as_ref().map(|f| code(f.long)).unwrap_or_default(),
            self.env.iter().map(|e| code(e)).collect::<Vec<_>>().join(", "),
            code(self.key),
            default,
        ];
        cells.iter().fold("|".to_string(), |row, c| if c.is_empty() { row + " |" } else { format!("{row} {c} |") })
    }

    /// How the setting is spelt where `source` set it, for messages: `--timeout`,
    /// `GRILL_TIMEOUT in the environment`, `` `timeout` in the config file (path)``.
    pub fn at(&self, source: &Source) -> String {
        match source {
            Source::Flag => self.flag.as_ref().map_or(self.key, |f| f.long).to_string(),
            Source::Env(n) => format!("{n} in the environment"),
            Source::DotEnv(n) => format!("{n} in .env"),
            Source::File(p) => format!("`{}` in the config file ({})", self.key, p.display()),
            Source::Default(_) => self.key.to_string(),
        }
    }

    /// Reads a value from `source`. A bad value is an error naming the setting as it was
    /// spelt there.
    fn parse(&self, raw: &OsString, source: &Source) -> Result<Value, ConfigError> {
        let text = || raw.to_string_lossy().into_owned();
        Ok(match &self.kind {
            Kind::Text | Kind::Url => Value::Text(text()),
            Kind::Secret => Value::Secret(Secret::new(text())),
            Kind::Path => Value::Path(match source {
                Source::File(cfg) if Path::new(raw).is_relative() => cfg.parent().unwrap_or(Path::new(".")).join(raw),
                _ => PathBuf::from(raw),
            }),
            Kind::Paths => Value::Paths(
                std::env::split_paths(raw)
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|p| match source {
                        Source::File(cfg) if p.is_relative() => cfg.parent().unwrap_or(Path::new(".")).join(p),
                        _ => p,
                    })
                    .collect(),
            ),
            Kind::Switch => match text().trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" | "1" => Value::Switch(true),
                "off" | "false" | "no" | "0" => Value::Switch(false),
                _ => {
                    return Err(ConfigError::Invalid {
                        message: format!("{} must be `on` or `off` (got `{}`)", self.at(source), quoted(&text())),
                        from: source.clone(),
                    });
                }
            },
            Kind::Grader => Value::Grader(self.parse_grader(&text(), source)?),
            Kind::Date => match chrono::NaiveDate::parse_from_str(text().trim(), "%Y-%m-%d") {
                Ok(d) => Value::Text(d.format("%Y-%m-%d").to_string()),
                Err(_) => {
                    return Err(ConfigError::Invalid {
                        message: format!(
                            "{} must be a date as YYYY-MM-DD, e.g. 2027-01-15 (got `{}`)",
                            self.at(source),
                            quoted(&text())
                        ),
                        from: source.clone(),
                    });
                }
            },
            Kind::Seconds(range) => match text().trim().parse::<u64>() {
                Ok(v) if range.contains(&v) => Value::Seconds(v),
                _ => {
                    return Err(ConfigError::Invalid {
                        message: format!(
                            "{} must be a whole number of seconds from {} to {} (got `{}`)",
                            self.at(source),
                            range.start(),
                            range.end(),
                            quoted(&text())
                        ),
                        from: source.clone(),
                    });
                }
            },
            Kind::Count(range) => match text().trim().parse::<u64>() {
                Ok(v) if range.contains(&v) => Value::Count(v),
                _ => {
                    return Err(ConfigError::Invalid {
                        message: format!(
                            "{} must be a whole number from {} to {} (got `{}`)",
                            self.at(source),
                            range.start(),
                            range.end(),
                            quoted(&text())
                        ),
                        from: source.clone(),
                    });
                }
            },
        })
    }

    fn parse_grader(&self, value: &str, source: &Source) -> Result<GraderChoice, ConfigError> {
        if let Ok(g) = <GraderChoice as clap::ValueEnum>::from_str(value, true) {
            return Ok(g);
        }
        let names: Vec<&str> = [GraderChoice::Auto, GraderChoice::Llm, GraderChoice::Offline].map(|g| g.name()).into();
        let lower = value.to_lowercase();
        let near = names.iter().find(|n| crate::util::edit_distance(&lower, n) <= 2 && lower.len() > 2);
        let did_you_mean = near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
        Err(ConfigError::Invalid {
            message: format!(
                "{} must be one of {} (got `{}`{did_you_mean})",
                self.at(source),
                names.join(", "),
                quoted(value)
            ),
            from: source.clone(),
        })
    }
}

/// The config file's values, by key, as text: every key is a setting's, and every value
/// has the type its setting wants; [`parse_config`] checks both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFile {
    values: BTreeMap<String, String>,
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

/// The values of the flags that are settings, as given on the command line (the
/// command-line parser converts into this, so settings do not depend on it).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--model`.
    pub model: Option<String>,
    /// `--grader`.
    pub grader: Option<GraderChoice>,
    /// `--timeout`.
    pub timeout: Option<u64>,
    /// `--samples`.
    pub samples: Option<u64>,
    /// `--prompts`.
    pub prompts: Option<PathBuf>,
    /// `--bank`, each time it was given.
    pub banks: Vec<PathBuf>,
    /// `--no-builtin-bank`.
    pub no_builtin_bank: bool,
    /// `--transcripts`.
    pub transcripts: Option<PathBuf>,
    /// `--interview` (of `grill plan`), as typed.
    pub interview: Option<String>,
    /// `--no-confirm`.
    pub no_confirm: bool,
    /// `--config`: which config file to read.
    pub config: Option<PathBuf>,
}

/// Everything settings are resolved from, as values.
#[derive(Debug, Default)]
pub struct Inputs {
    /// The flags given.
    pub flags: Flags,
    /// The process environment.
    pub env: HashMap<String, String>,
    /// The pairs of `.env`.
    pub dotenv: HashMap<String, String>,
    /// The config file, if one was read.
    pub file: Option<(PathBuf, ConfigFile)>,
    /// The platform data folder for grill.
    pub data_dir: Option<PathBuf>,
}

/// One setting as resolved, for `grill config`: its value and where it came from, or
/// nothing when its default is not a value (then the default's text is shown).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The setting.
    pub setting: &'static Setting,
    /// Its value, if one applies.
    pub value: Option<Sourced<Value>>,
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
    /// Bank folders layered over the built-in bank, in order.
    pub banks: Vec<PathBuf>,
    /// Whether the built-in bank is read.
    pub builtin_bank: bool,
    /// Transcript folder.
    pub transcripts: Sourced<PathBuf>,
    /// Prompt template folder; `None` means the built-in templates.
    pub prompts: Option<Sourced<PathBuf>>,
    /// Seconds a grading request may take.
    pub timeout: Sourced<u64>,
    /// Seconds to wait for a connection.
    pub connect_timeout: Sourced<u64>,
    /// Grades taken of each answer by a model.
    pub samples: Sourced<u64>,
    /// New questions `grill practice --due` brings in per calendar day.
    pub new_per_day: Sourced<u64>,
    /// The interview day to forecast for.
    pub interview_date: Option<Sourced<chrono::NaiveDate>>,
    /// Whether practice asks for the user's word on each offline grade.
    pub confirm: Sourced<bool>,
    /// Every setting of [`SETTINGS`], in order, as resolved.
    pub entries: Vec<Entry>,
    /// The config file consulted, and whether it existed.
    pub config_file: Option<(PathBuf, bool)>,
    /// The platform data folder (history and caches).
    pub data_dir: Option<PathBuf>,
}

impl Settings {
    /// Resolves every setting of [`SETTINGS`]: flag, then environment, then `.env`, then
    /// config file, then default.
    pub fn resolve(inputs: &Inputs) -> Result<Settings, ConfigError> {
        let mut entries = Vec::with_capacity(SETTINGS.len());
        for setting in SETTINGS {
            entries.push(Entry { setting, value: resolve_one(setting, inputs)? });
        }
        // Always the data folder, wherever grill runs: a `transcripts/` folder that
        // happens to be in the working directory must not capture sessions.
        let transcripts = entries.iter_mut().find(|e| e.setting.key == TRANSCRIPTS.key).expect("in the table");
        if transcripts.value.is_none() {
            transcripts.value = Some(match &inputs.data_dir {
                Some(data) => Sourced {
                    value: Value::Path(data.join("transcripts")),
                    source: Source::Default(TRANSCRIPTS.default.why),
                },
                None => Sourced {
                    value: Value::Path(PathBuf::from("transcripts")),
                    source: Source::Default("no data folder on this platform"),
                },
            });
        }
        // The table's kinds decide the values' types, so a mismatch is a bug in the table.
        fn typed<T>(entries: &[Entry], s: &Setting, pick: fn(Value) -> Option<T>) -> Option<Sourced<T>> {
            let sourced = entries.iter().find(|e| e.setting.key == s.key)?.value.clone()?;
            let source = sourced.source;
            let value = pick(sourced.value).unwrap_or_else(|| panic!("{}: a value of another kind", s.key));
            Some(Sourced { value, source })
        }
        let text = |v| if let Value::Text(t) = v { Some(t) } else { None };
        let path = |v| if let Value::Path(p) = v { Some(p) } else { None };
        let paths = |v| if let Value::Paths(p) = v { Some(p) } else { None };
        let switch = |v| if let Value::Switch(b) = v { Some(b) } else { None };
        let seconds = |v| if let Value::Seconds(n) = v { Some(n) } else { None };
        let count = |v| if let Value::Count(n) = v { Some(n) } else { None };
        let secret = |v| if let Value::Secret(k) = v { Some(k) } else { None };
        let grader = |v| if let Value::Grader(g) = v { Some(g) } else { None };
        // Checked when read, so only a bug in the table reaches `None`.
        let date =
            |v| if let Value::Text(t) = v { chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok() } else { None };
        let always = "a setting whose default is a value always has one";
        Ok(Settings {
            base_url: typed(&entries, &BASE_URL, text),
            api_key: typed(&entries, &API_KEY, secret),
            model: typed(&entries, &MODEL, text),
            ollama_host: typed(&entries, &OLLAMA_HOST, text),
            grader: typed(&entries, &GRADER, grader).expect(always),
            banks: typed(&entries, &BANKS, paths).map(|p| p.value).unwrap_or_default(),
            builtin_bank: typed(&entries, &BUILTIN_BANK, switch).expect(always).value,
            transcripts: typed(&entries, &TRANSCRIPTS, path).expect(always),
            prompts: typed(&entries, &PROMPTS, path),
            timeout: typed(&entries, &TIMEOUT, seconds).expect(always),
            connect_timeout: typed(&entries, &CONNECT_TIMEOUT, seconds).expect(always),
            samples: typed(&entries, &SAMPLES, count).expect(always),
            new_per_day: typed(&entries, &NEW_PER_DAY, count).expect(always),
            interview_date: typed(&entries, &INTERVIEW_DATE, date),
            confirm: typed(&entries, &CONFIRM, switch).expect(always),
            entries,
            config_file: None,
            data_dir: inputs.data_dir.clone(),
        })
    }
}

/// One setting's value: the first source that sets it wins, and a value that does not
/// parse is an error rather than a fall-through (a misspelt `offline` must not end up
/// sending answers to a model).
fn resolve_one(setting: &'static Setting, inputs: &Inputs) -> Result<Option<Sourced<Value>>, ConfigError> {
    let found = setting
        .flag
        .as_ref()
        .and_then(|f| (f.get)(&inputs.flags))
        .map(|v| (v, Source::Flag))
        .or_else(|| lookup(&inputs.env, setting.env).map(|(n, v)| (v.into(), Source::Env(n))))
        .or_else(|| lookup(&inputs.dotenv, setting.env).map(|(n, v)| (v.into(), Source::DotEnv(n))))
        .or_else(|| {
            let (path, file) = inputs.file.as_ref()?;
            file.values.get(setting.key).map(|v| (v.into(), Source::File(path.clone())))
        });
    match found {
        Some((raw, source)) => Ok(Some(Sourced { value: setting.parse(&raw, &source)?, source })),
        None if setting.default.is_value => {
            let source = Source::Default(setting.default.why);
            Ok(Some(Sourced { value: setting.parse(&setting.default.shown.into(), &source)?, source }))
        }
        None => Ok(None),
    }
}

/// A value as quoted back in a message: short, one line, nothing key-shaped.
fn quoted(value: &str) -> String {
    let value = crate::scrub::controls(value);
    let value = crate::scrub::redact(&value);
    crate::scrub::cap(&value, 40).replace('\n', " ")
}

fn lookup(map: &HashMap<String, String>, names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|n| map.get(*n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v.trim().to_string())))
}

/// Parses a config file's text: every key must be a setting's and every value of the type
/// it wants, or the error names the line and column.
pub fn parse_config(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let at = |offset: usize, message: String| {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigError::File { path: path.to_path_buf(), line, column, message }
    };
    type Raw = BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>>;
    let raw: Raw =
        toml::from_str(text).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().trim().to_string()))?;
    let mut values = BTreeMap::new();
    for (key, value) in raw {
        let Some(setting) = SETTINGS.iter().find(|s| s.key == key.get_ref()) else {
            let keys: Vec<String> = SETTINGS.iter().map(|s| format!("`{}`", s.key)).collect();
            return Err(at(
                key.span().start,
                format!("unknown key `{}`, expected one of {}", quoted(key.get_ref()), keys.join(", ")),
            ));
        };
        let text = match (&setting.kind, value.get_ref()) {
            (Kind::Seconds(_), toml::Value::Integer(n)) => n.to_string(),
            (Kind::Seconds(_), _) => {
                return Err(at(value.span().start, format!("`{}` must be a whole number of seconds", setting.key)));
            }
            (Kind::Count(_), toml::Value::Integer(n)) => n.to_string(),
            (Kind::Count(_), _) => {
                return Err(at(value.span().start, format!("`{}` must be a whole number", setting.key)));
            }
            (Kind::Switch, toml::Value::Boolean(b)) => if *b { "on" } else { "off" }.to_string(),
            (Kind::Paths, toml::Value::Array(items)) => {
                let mut paths = Vec::new();
                for item in items {
                    let Some(p) = item.as_str() else {
                        return Err(at(
                            value.span().start,
                            format!("`{}` must be a list of folder names", setting.key),
                        ));
                    };
                    paths.push(PathBuf::from(p));
                }
                std::env::join_paths(paths)
                    .map_err(|e| at(value.span().start, format!("`{}`: {e}", setting.key)))?
                    .to_string_lossy()
                    .into_owned()
            }
            // TOML's own date type, written without quotes.
            (Kind::Date, toml::Value::Datetime(d)) => d.to_string(),
            (_, toml::Value::String(s)) => s.clone(),
            (_, _) => return Err(at(value.span().start, format!("`{}` must be a string", setting.key))),
        };
        values.insert(setting.key.to_string(), text);
    }
    Ok(ConfigFile { values })
}

/// Reads the environment, `.env` and the config file, and resolves the settings.
pub fn load(flags: &Flags) -> Result<Settings, ConfigError> {
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
        let file =
            parse_config(Path::new("/etc/grill.toml"), "base_url = \"http://file/v1\"\nmodel = \"file-model\"\n")
                .unwrap();
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
    fn confirming_is_on_unless_a_flag_the_environment_or_the_file_turns_it_off() {
        let mut i = inputs();
        let on = Settings::resolve(&i).unwrap().confirm;
        assert!(on.value);
        assert!(matches!(on.source, Source::Default(_)));
        let cfg = parse_config(Path::new("c.toml"), "confirm = false\n").unwrap();
        i.file = Some(("c.toml".into(), cfg));
        assert!(!Settings::resolve(&i).unwrap().confirm.value);
        i.env = map(&[("GRILL_CONFIRM", "ON")]);
        assert!(Settings::resolve(&i).unwrap().confirm.value);
        i.flags.no_confirm = true;
        let off = Settings::resolve(&i).unwrap().confirm;
        assert_eq!((off.value, off.source), (false, Source::Flag));
        i.flags.no_confirm = false;
        i.env = map(&[("GRILL_CONFIRM", "maybe")]);
        let err = Settings::resolve(&i).unwrap_err().to_string();
        assert_eq!(err, "GRILL_CONFIRM in the environment must be `on` or `off` (got `maybe`)");
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
        let cfg = parse_config(Path::new("/home/u/.config/grill/config.toml"), "prompts = \"my-prompts\"\n").unwrap();
        i.file = Some(("/home/u/.config/grill/config.toml".into(), cfg));
        assert_eq!(
            Settings::resolve(&i).unwrap().prompts.unwrap().value,
            PathBuf::from("/home/u/.config/grill/my-prompts")
        );

        let err = parse_config(Path::new("c.toml"), "model = \"m\"\nbase_ulr = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("c.toml:2:1:") && msg.contains("base_ulr"), "{msg}");
    }

    /// Bank folders come as a list from the config file (relative to it), as a `PATH`-like
    /// list from the environment, or one per `--bank`; a flag's list replaces the others.
    #[test]
    fn bank_folders_layer_from_every_source_and_the_built_in_bank_can_be_left_out() {
        let mut i = inputs();
        let cfg = parse_config(
            Path::new("/home/u/.config/grill/config.toml"),
            "banks = [\"team\", \"/abs/mine\"]\nbuiltin_bank = false\n",
        )
        .unwrap();
        i.file = Some(("/home/u/.config/grill/config.toml".into(), cfg));
        let s = Settings::resolve(&i).unwrap();
        assert_eq!(s.banks, [PathBuf::from("/home/u/.config/grill/team"), PathBuf::from("/abs/mine")]);
        assert!(!s.builtin_bank);
        i.env = map(&[("GRILL_BANKS", "/x:/y"), ("GRILL_BUILTIN_BANK", "on")]);
        let s = Settings::resolve(&i).unwrap();
        assert_eq!(s.banks, [PathBuf::from("/x"), PathBuf::from("/y")]);
        assert!(s.builtin_bank);
        i.flags.banks = vec!["f".into()];
        i.flags.no_builtin_bank = true;
        let s = Settings::resolve(&i).unwrap();
        assert_eq!((s.banks, s.builtin_bank), (vec![PathBuf::from("f")], false));
        assert_eq!(Settings::resolve(&inputs()).unwrap().banks, Vec::<PathBuf>::new());
        assert!(Settings::resolve(&inputs()).unwrap().builtin_bank);
    }

    #[test]
    fn config_file_values_of_the_wrong_type_are_located_and_checked_like_any_other() {
        let path = Path::new("c.toml");
        let err = parse_config(path, "model = \"m\"\ntimeout = \"120\"\n").unwrap_err().to_string();
        assert_eq!(err, "c.toml:2:11: `timeout` must be a whole number of seconds");
        let err = parse_config(path, "prompts = 3\n").unwrap_err().to_string();
        assert_eq!(err, "c.toml:1:11: `prompts` must be a string");
        let err = parse_config(path, "banks = [\"a\", 3]\n").unwrap_err().to_string();
        assert_eq!(err, "c.toml:1:9: `banks` must be a list of folder names");
        let err = parse_config(path, "builtin_bank = \"of\"\n").unwrap();
        let mut i = inputs();
        i.file = Some(("c.toml".into(), err));
        assert_eq!(
            Settings::resolve(&i).unwrap_err().to_string(),
            "`builtin_bank` in the config file (c.toml) must be `on` or `off` (got `of`)"
        );

        let mut i = inputs();
        i.file = Some(("c.toml".into(), parse_config(path, "grader = \"ofline\"\n").unwrap()));
        assert_eq!(
            Settings::resolve(&i).unwrap_err().to_string(),
            "`grader` in the config file (c.toml) must be one of auto, llm, offline (got `ofline`; did you mean \
             `offline`?)"
        );
    }

    #[test]
    fn every_setting_is_resolved_in_table_order_with_a_source() {
        let s = Settings::resolve(&inputs()).unwrap();
        let keys: Vec<&str> = s.entries.iter().map(|e| e.setting.key).collect();
        assert_eq!(keys, SETTINGS.map(|s| s.key));
        let grader = &s.entries[4];
        assert_eq!(
            grader.value,
            Some(Sourced { value: Value::Grader(GraderChoice::Auto), source: Source::Default("the best available") })
        );
        assert_eq!(s.entries[0].value, None);
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
    fn the_interview_date_is_a_calendar_date_from_any_source_and_new_per_day_has_a_default() {
        let mut i = inputs();
        let s = Settings::resolve(&i).unwrap();
        assert_eq!((s.interview_date, s.new_per_day.value), (None, 5));
        let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        for text in ["interview_date = 2027-01-15\n", "interview_date = \"2027-01-15\"\n"] {
            i.file = Some(("c.toml".into(), parse_config(Path::new("c.toml"), text).unwrap()));
            assert_eq!(Settings::resolve(&i).unwrap().interview_date.unwrap().value, day, "{text}");
        }
        i.flags.interview = Some("2027-02-30".into());
        assert_eq!(
            Settings::resolve(&i).unwrap_err().to_string(),
            "--interview must be a date as YYYY-MM-DD, e.g. 2027-01-15 (got `2027-02-30`)"
        );
        i.flags.interview = None;
        i.env = map(&[("GRILL_NEW_PER_DAY", "101")]);
        assert_eq!(
            Settings::resolve(&i).unwrap_err().to_string(),
            "GRILL_NEW_PER_DAY in the environment must be a whole number from 0 to 100 (got `101`)"
        );
        i.env = map(&[("GRILL_NEW_PER_DAY", "0")]);
        assert_eq!(Settings::resolve(&i).unwrap().new_per_day.value, 0);
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
