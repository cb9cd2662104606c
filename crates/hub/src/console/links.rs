//! The links tool: goods detected in pasted text, links spliced with a chanTag offline, and
//! promotion links generated through the Union account's interactive quota.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use shopbridge_store::ConsoleSession;
use shopbridge_vop::union::links::{self, SpliceWarning};

use super::{
    Shared, ShopChoice, SignedIn, Viewer, checked, chosen_shop, failed, said, shop_choice,
};
use crate::service;
use crate::state::HubApp;
use crate::ui::{self, Lang};

/// The most characters of pasted text the tool reads.
const MAX_TEXT_CHARS: usize = 20_000;

/// The kinds of link the platform answers, in the order shown.
pub(super) const LINK_KINDS: &[&str] = &["url", "long_url", "ul_url", "deeplink", "tra_from"];

#[derive(Debug, Deserialize, Default)]
pub(super) struct LinksForm {
    csrf: String,
    shop: Option<String>,
    text: String,
    chan_tag: Option<String>,
    stat_param: Option<String>,
}

#[derive(Serialize)]
struct SplicedView {
    link: Option<String>,
    warnings: Vec<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct LinkView {
    kind: &'static str,
    value: String,
}

#[derive(Serialize)]
struct GeneratedView {
    source: String,
    links: Vec<LinkView>,
}

#[derive(Serialize)]
struct MissingView {
    goods_id: String,
    error: String,
}

#[derive(Serialize, Default)]
struct LinksPage {
    shops: Vec<ShopChoice>,
    chosen: String,
    text: String,
    chan_tag: String,
    stat_param: String,
    submitted: bool,
    goods: Vec<String>,
    spliced: Vec<SplicedView>,
    generated: Option<Vec<GeneratedView>>,
    generated_error: Option<String>,
    missing: Vec<MissingView>,
    /// Why the text was not read, or that only part of it was.
    text_error: Option<String>,
    truncated: bool,
}

fn warning(lang: Lang, warning: &SpliceWarning) -> String {
    match warning {
        SpliceWarning::MiniProgramTraFrom => lang.t("warning-mini-program-tra-from"),
        SpliceWarning::UniversalLinkMayLoseParameters => lang.t("warning-universal-link"),
        other => other.to_string(),
    }
}

async fn view(
    app: &HubApp,
    session: &ConsoleSession,
    viewer: &Viewer,
    form: Option<&LinksForm>,
) -> Response {
    let lang = viewer.lang;
    let (shops, chosen) =
        match chosen_shop(app, session, form.and_then(|f| f.shop.as_deref()), |shop| {
            shop.kind.is_union()
        })
        .await
        {
            Ok(found) => found,
            Err(err) => return failed(err, viewer, "/console/links"),
        };
    let mut page = LinksPage {
        shops: shops.iter().map(|s| shop_choice(app, lang, s)).collect(),
        chosen: chosen.as_ref().map(|c| c.id.clone()).unwrap_or_default(),
        ..LinksPage::default()
    };
    if let Some(form) = form {
        let chan_tag = form
            .chan_tag
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let stat_param = form
            .stat_param
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        page.text = form.text.clone();
        page.chan_tag = chan_tag.unwrap_or_default().to_owned();
        page.stat_param = stat_param.unwrap_or_default().to_owned();
        let length = form.text.chars().count();
        if length > MAX_TEXT_CHARS {
            page.text = String::new();
            page.text_error = Some(lang.t_with(
                "links-text-too-long",
                &[
                    ("count", length.to_string()),
                    ("max", MAX_TEXT_CHARS.to_string()),
                ],
            ));
            return ui::render(
                "links.html",
                &viewer.frame("title-links", "links", session),
                &page,
            );
        }
        page.submitted = true;
        let found = links::detect(&form.text);
        page.truncated = found.truncated;
        page.goods = found.goods_ids.clone();
        if chan_tag.is_some() || stat_param.is_some() {
            page.spliced = found
                .links
                .iter()
                .map(
                    |link| match links::splice(&link.link, chan_tag, stat_param) {
                        Ok(done) => SplicedView {
                            link: Some(done.link),
                            warnings: done.warnings.iter().map(|w| warning(lang, w)).collect(),
                            error: None,
                        },
                        Err(err) => SplicedView {
                            link: None,
                            warnings: Vec::new(),
                            error: Some(err.to_string()),
                        },
                    },
                )
                .collect();
        }
        if let (Some(shop), false) = (&chosen, found.goods_ids.is_empty()) {
            // Through the same service as `POST /v1/union/links`: the interactive quota first.
            let request = service::union::LinkRequest {
                shop: shop.id.clone(),
                goods_ids: found
                    .goods_ids
                    .iter()
                    .take(service::union::MAX_LINK_GOODS)
                    .cloned()
                    .collect(),
                chan_tag: chan_tag.map(str::to_owned),
                stat_param: stat_param.map(str::to_owned),
            };
            match service::union::links(app, &session.tenant_id, request).await {
                Ok(answer) => {
                    page.generated = Some(
                        answer
                            .url_info_list
                            .iter()
                            .map(|info| GeneratedView {
                                source: info.source.clone().unwrap_or_default(),
                                links: LINK_KINDS
                                    .iter()
                                    .copied()
                                    .zip([
                                        &info.url,
                                        &info.long_url,
                                        &info.ul_url,
                                        &info.deeplink_url,
                                        &info.tra_from,
                                    ])
                                    .filter_map(|(kind, value)| {
                                        value.clone().map(|value| LinkView { kind, value })
                                    })
                                    .collect(),
                            })
                            .collect(),
                    );
                    page.missing = answer
                        .errors
                        .into_iter()
                        .map(|missing| MissingView {
                            goods_id: missing.goods_id,
                            error: missing.error,
                        })
                        .collect();
                }
                Err(err) => {
                    page.generated = Some(Vec::new());
                    page.generated_error = Some(said(&err, lang));
                }
            }
        }
    }
    ui::render(
        "links.html",
        &viewer.frame("title-links", "links", session),
        &page,
    )
}

pub(super) async fn page(
    State(app): Shared,
    SignedIn(session): SignedIn,
    viewer: Viewer,
) -> Response {
    view(&app, &session, &viewer, None).await
}

pub(super) async fn submit(
    State(app): Shared,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<LinksForm>,
) -> Response {
    let session = match checked(&app, &jar, viewer.lang, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    view(&app, &session, &viewer, Some(&form)).await
}
