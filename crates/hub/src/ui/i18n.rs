//! The console's words in Chinese and English, from Fluent catalogs (`locales/*.ftl`) built
//! into the binary.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

use super::Lang;

const ZH: &str = include_str!("../../locales/zh.ftl");
const EN: &str = include_str!("../../locales/en.ftl");

/// Both languages' bundles, parsed once.
pub struct Catalog {
    zh: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: unic_langid::LanguageIdentifier, source: &str) -> FluentBundle<FluentResource> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => resource,
        // The catalogs are part of the binary; `the_catalogs_parse` keeps them well-formed.
        Err((resource, errors)) => {
            tracing::error!(?errors, "console catalog has syntax errors");
            resource
        }
    };
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // No Unicode isolation marks around arguments: they would show up in copied text and tests.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(?errors, "console catalog defines a message twice");
    }
    bundle
}

fn language(tag: &str) -> unic_langid::LanguageIdentifier {
    tag.parse().unwrap_or_default()
}

/// The catalog, parsed on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        zh: bundle(language("zh-CN"), ZH),
        en: bundle(language("en"), EN),
    })
}

/// What a missing message renders as: visible, and found by the tests.
pub fn missing(key: &str) -> String {
    format!("⟦{key}⟧")
}

impl Catalog {
    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The message `key` in `lang`, with its arguments filled in.
    pub fn text(&self, lang: Lang, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return missing(key);
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, ?errors, "console message formatted with errors");
        }
        text.into_owned()
    }

    /// Whether `key` has a message in `lang`.
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundle(lang).has_message(key)
    }
}

/// The message ids a catalog source defines.
pub fn ids(source: &str) -> BTreeSet<String> {
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|line| line.split_once('='))
        .map(|(id, _)| id.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogs_parse() {
        for source in [ZH, EN] {
            if let Err((_, errors)) = FluentResource::try_new(source.to_owned()) {
                panic!("catalog syntax: {errors:?}");
            }
        }
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        let (zh, en) = (ids(ZH), ids(EN));
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only in zh.ftl: {only_zh:?}; only in en.ftl: {only_en:?}"
        );
        assert!(zh.len() > 100, "the catalogs hold the console's words");
    }

    #[test]
    fn a_missing_message_is_visible() {
        assert_eq!(
            catalog().text(Lang::En, "no-such-message", None),
            "⟦no-such-message⟧"
        );
        assert_eq!(catalog().text(Lang::Zh, "nav-shops", None), "店铺");
    }
}
