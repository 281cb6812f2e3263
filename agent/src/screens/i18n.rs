//! The screens' languages: one Fluent file per language in `agent/screens/locales/`, built
//! into the binary. French is the reference and the fallback for any message a language
//! lacks; the text direction follows the language.

use std::borrow::Cow;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language the screens speak.
#[derive(Debug)]
pub struct Language {
    /// BCP 47 tag, as in the URLs (`/ar/charte`) and `<html lang>`.
    pub code: &'static str,
    /// Its name in its own script, for the language choice.
    pub name: &'static str,
    /// Written right to left.
    pub rtl: bool,
    source: &'static str,
}

impl Language {
    /// The language's Fluent source, as built into the binary.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// `rtl` or `ltr`, for `<html dir>`.
    pub fn dir(&self) -> &'static str {
        if self.rtl {
            "rtl"
        } else {
            "ltr"
        }
    }
}

macro_rules! language {
    ($code:literal, $name:literal, $rtl:literal) => {
        Language {
            code: $code,
            name: $name,
            rtl: $rtl,
            source: include_str!(concat!("../../screens/locales/", $code, ".ftl")),
        }
    };
}

/// Every language, in the order the welcome screen lists them. French first: the reference.
/// Dari is tagged `fa-AF` (Persian as written in Afghanistan), the tag browsers and screen
/// readers know.
pub static LANGUAGES: &[Language] = &[
    language!("fr", "Français", false),
    language!("ar", "العربية", true),
    language!("en", "English", false),
    language!("es", "Español", false),
    language!("pt", "Português", false),
    language!("tr", "Türkçe", false),
    language!("fa-AF", "دری", true),
    language!("ps", "پښتو", true),
    language!("ti", "ትግርኛ", false),
    language!("ru", "Русский", false),
    language!("uk", "Українська", false),
];

/// The messages every language must have (the welcome, the charter's summary, the
/// warnings and the end screens); the rest may fall back to French.
pub const REQUIRED: &[&str] = &[
    "phone-send",
    "phone-title",
    "phone-scan",
    "phone-once",
    "phone-private",
    "phone-still-erased",
    "phone-back",
    "choose-language",
    "welcome-title",
    "welcome-text",
    "welcome-start",
    "charter-title",
    "charter-summary",
    "charter-recorded-title",
    "charter-recorded-1",
    "charter-recorded-2",
    "charter-recorded-3",
    "charter-not-recorded-title",
    "charter-not-recorded-1",
    "charter-not-recorded-2",
    "charter-not-recorded-3",
    "charter-not-recorded-4",
    "charter-accept",
    "warning-title",
    "warning-5",
    "warning-1",
    "session-end-now",
    "end-title",
    "end-documents-title",
    "end-documents-none",
    "end-keep-title",
    "end-keep-usb",
    "end-keep-print",
    "end-confirm",
    "end-back",
    "erased-title",
    "erased-text",
    "erased-checked",
    "erased-failed",
    "wiping-title",
    "wiping-text",
    "help-call",
    "help-choose",
    "help-need-printing",
    "help-need-account",
    "help-need-form",
    "help-need-other",
    "help-sent-title",
    "help-taken-title",
    "help-cancel",
    "print-title",
    "print-job",
    "print-pages",
    "print-left",
    "print-confirm",
    "print-cancel",
    "print-beyond",
    "print-uncounted",
];

/// Finds a language by its tag (exact, as the URLs carry it).
pub fn language(code: &str) -> Option<&'static Language> {
    LANGUAGES.iter().find(|l| l.code == code)
}

/// French, the reference.
pub fn french() -> &'static Language {
    &LANGUAGES[0]
}

/// Every language's messages, parsed once.
pub struct Texts {
    bundles: Vec<FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts").finish_non_exhaustive()
    }
}

impl Texts {
    /// Parses every language's file; any syntax error is an error (the tests load them all).
    pub fn load() -> Result<Texts, String> {
        Texts::parse(|l| l.source.to_string())
    }

    /// Parses the sources `source` gives for each language (tests give partial ones).
    pub fn parse(source: impl Fn(&Language) -> String) -> Result<Texts, String> {
        let mut bundles = Vec::new();
        for language in LANGUAGES {
            let resource = FluentResource::try_new(source(language)).map_err(|(_, errors)| {
                format!("{}.ftl does not parse: {errors:?}", language.code)
            })?;
            let id: unic_langid::LanguageIdentifier = language
                .code
                .parse()
                .map_err(|e| format!("bad language tag {}: {e}", language.code))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Unicode isolation marks around values would end up in the page's text; the
            // pages isolate what needs it with <bdi>.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|e| format!("{}.ftl repeats a message: {e:?}", language.code))?;
            bundles.push(bundle);
        }
        Ok(Texts { bundles })
    }

    fn bundle(&self, language: &Language) -> &FluentBundle<FluentResource> {
        let i = LANGUAGES
            .iter()
            .position(|l| std::ptr::eq(l, language))
            .unwrap_or(0);
        &self.bundles[i]
    }

    /// Whether `language` has the message itself (not through French).
    pub fn has(&self, language: &Language, id: &str) -> bool {
        self.bundle(language).has_message(id)
    }

    /// The ids of every message of `language`.
    pub fn ids(&self, language: &Language) -> Vec<String> {
        let mut ids: Vec<String> = language
            .source
            .lines()
            .filter_map(|line| line.split_once(" = ").map(|(id, _)| id.trim()))
            .filter(|id| !id.is_empty() && !id.starts_with('#'))
            .map(str::to_string)
            .collect();
        ids.sort();
        ids
    }

    /// The message `id` in `language`, else in French, else the id itself (a missing
    /// message shows, it never breaks a page).
    pub fn get(&self, language: &Language, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        for bundle in [self.bundle(language), self.bundle(french())] {
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text: Cow<'_, str> = bundle.format_pattern(pattern, args, &mut errors);
                if errors.is_empty() {
                    return text.into_owned();
                }
                tracing::warn!(
                    id,
                    language = language.code,
                    ?errors,
                    "a screen message did not format"
                );
            }
        }
        id.to_string()
    }
}

/// One language's messages, for one page.
#[derive(Clone, Copy)]
pub struct Tr<'a> {
    /// The messages.
    pub texts: &'a Texts,
    /// The page's language.
    pub lang: &'static Language,
}

impl Tr<'_> {
    /// A message without arguments.
    pub fn t(&self, id: &str) -> String {
        self.texts.get(self.lang, id, None)
    }

    /// A message with arguments.
    pub fn with(&self, id: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.texts.get(self.lang, id, Some(&fluent))
    }
}
