//! Server-rendered pages: minijinja templates compiled into the binary.
//!
//! Every template's name ends in `.html`, which is what turns minijinja's auto-escaping on:
//! whatever came from mail or OCR (subjects, bodies, file names, page text, headers) is escaped
//! wherever it is shown. Nothing is marked safe except markup built here from escaped parts
//! (search snippets) and the SVG charts, which escape every label themselves.

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::Html;
use minijinja::{context, Environment, Value};

/// The templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("error.html", include_str!("templates/error.html")),
    ("login.html", include_str!("templates/login.html")),
    ("queue.html", include_str!("templates/queue.html")),
    ("case.html", include_str!("templates/case.html")),
    ("status.html", include_str!("templates/status.html")),
    ("mailroom.html", include_str!("templates/mailroom.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
];

/// The page stylesheet, served at `/assets/desk.css` (no inline styles: the CSP forbids them).
pub const STYLESHEET: &str = include_str!("templates/desk.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, src) in TEMPLATES {
            if let Err(e) = env.add_template(name, src) {
                // A broken built-in template is a bug caught by the tests; render what we can.
                tracing::error!(template = name, error = %e, "desk template does not compile");
            }
        }
        env
    })
}

/// A rendering failure (a bug in a built-in template).
#[derive(Debug, thiserror::Error)]
#[error("render {name}: {source}")]
pub struct RenderError {
    name: &'static str,
    #[source]
    source: minijinja::Error,
}

impl From<RenderError> for super::error::DeskError {
    fn from(e: RenderError) -> Self {
        super::error::DeskError::Internal(crate::pipeline::error_chain(&e))
    }
}

/// Render a page.
pub fn page(name: &'static str, ctx: Value) -> Result<Html<String>, RenderError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map(Html)
        .map_err(|source| RenderError { name, source })
}

/// The page for a failed request.
pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    page(
        "error.html",
        context! { status => status.as_u16(), message => message },
    )
    .unwrap_or_else(|_| Html(format!("<p>{}</p>", status.as_u16())))
}

/// Names of every template, for the test that all of them auto-escape.
pub fn template_names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(n, _)| *n)
}

/// Mask NIKs and NPWPs in text for officers: the first 6 and the last 2 digits stay (region
/// and check), the rest become `*`.
pub fn mask_nik(text: &str) -> String {
    crate::classify::identifiers::mask_in_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_autoescapes() {
        for name in template_names() {
            assert!(
                name.ends_with(".html"),
                "{name} must end in .html to auto-escape"
            );
            env().get_template(name).expect(name);
        }
        let out = error_page(StatusCode::NOT_FOUND, "<script>alert(1)</script>").0;
        assert!(!out.contains("<script>alert"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }

    #[test]
    fn nik_keeps_first_six_and_last_two_digits() {
        assert_eq!(
            mask_nik("NIK 3514061203850002 dan 081234567890"),
            "NIK 351406********02 dan 081234567890"
        );
    }
}
