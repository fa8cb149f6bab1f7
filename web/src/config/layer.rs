//! How an option's sources combine: a flag (or its environment variable, which clap reads)
//! over the TOML file, over the default declared with the option.
//!
//! An option is declared once, as a field of an options struct that both clap and serde
//! read: its doc comment is its help, `env` names its variable, `default_value` gives its
//! default, and the field's name is its key in the file. clap would apply that default
//! itself, before the file could speak, so the command that parses the command line keeps
//! each default for `--help` only ([`defaults_shown_not_applied`]); [`declared_defaults`]
//! reads the defaults back, typed by the options' own parsers, to lie under the file.

use clap::builder::Resettable;
use clap::{Arg, Args, Command, FromArgMatches};

/// A value that lies over another: the upper one wins wherever it says anything.
pub trait Layer {
    /// `self` over `under`.
    #[must_use]
    fn over(self, under: Self) -> Self;
}

/// A value given in the upper layer wins.
impl<T> Layer for Option<T> {
    fn over(self, under: Self) -> Self {
        self.or(under)
    }
}

/// A switch is on when any layer turns it on.
impl Layer for bool {
    fn over(self, under: Self) -> Self {
        self || under
    }
}

/// A list given in the upper layer replaces the one under it.
impl<T> Layer for Vec<T> {
    fn over(self, under: Self) -> Self {
        if self.is_empty() { under } else { self }
    }
}

/// Declares an options struct together with its [`Layer`], which lays each field over the
/// same field of another value: adding an option is adding a field, nothing more.
macro_rules! layered {
    (
        $(#[$($attr:tt)*])*
        $vis:vis struct $name:ident {
            $(
                $(#[$($field_attr:tt)*])*
                $field_vis:vis $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$($attr)*])*
        $vis struct $name {
            $(
                $(#[$($field_attr)*])*
                $field_vis $field: $ty,
            )*
        }

        impl $crate::config::layer::Layer for $name {
            fn over(self, under: Self) -> Self {
                Self {
                    $($field: $crate::config::layer::Layer::over(self.$field, under.$field),)*
                }
            }
        }
    };
}
pub(crate) use layered;

/// For the command that parses the command line: an option's declared default moves into
/// its help (`[default: …]`) and is no longer applied by clap, so that the file can still
/// give the value when neither a flag nor the environment does.
pub fn defaults_shown_not_applied(arg: Arg) -> Arg {
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if defaults.is_empty() {
        return arg;
    }
    let shown = format!("[default: {}]", defaults.join(","));
    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    let long_help = arg.get_long_help().map(|h| format!("{h} {shown}"));
    let arg = arg.help(format!("{help} {shown}"));
    match long_help {
        Some(long_help) => arg.long_help(long_help),
        None => arg,
    }
    .default_value(Resettable::Reset)
}

/// The defaults declared on `T`'s options, parsed by the options' own parsers as if from an
/// empty command line in an empty environment.
pub fn declared_defaults<T: Args + FromArgMatches>() -> Result<T, clap::Error> {
    let command = T::augment_args(Command::new("defaults")).mut_args(|a| a.env(Resettable::Reset));
    let mut matches = command.try_get_matches_from(["defaults"])?;
    T::from_arg_matches_mut(&mut matches)
}
