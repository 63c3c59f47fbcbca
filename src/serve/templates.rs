//! Page rendering: minijinja templates compiled into the binary (`src/serve/templates/`), HTML-escaped by default
//! (every template name ends in `.html`), so a name typed as `<script>` shows as text. Also the small inline SVG
//! trend lines of the athlete page.

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use minijinja::value::{Serde, Value};
use serde::Serialize;

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("athletes.html", include_str!("templates/athletes.html")),
    ("athlete.html", include_str!("templates/athlete.html")),
    ("new_session.html", include_str!("templates/new_session.html")),
    ("session.html", include_str!("templates/session.html")),
    ("compare.html", include_str!("templates/compare.html")),
    ("users.html", include_str!("templates/users.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("account.html", include_str!("templates/account.html")),
    ("error.html", include_str!("templates/error.html")),
];

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(error) = environment.add_template(name, source) {
                // A template that does not parse is a bug caught by the tests (`every_template_renders`).
                eprintln!("runform serve: template {name} does not parse: {error}");
            }
        }
        environment
    })
}

/// A page that could not be made, shown as the error page with its status.
#[derive(Debug)]
pub struct PageError {
    /// The HTTP status.
    pub status: StatusCode,
    /// One sentence for the user.
    pub message: String,
}

impl PageError {
    /// A page error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found() -> PageError {
        PageError::new(
            StatusCode::NOT_FOUND,
            "There is no such page (it may have been deleted).",
        )
    }

    /// 500 from an unexpected error.
    pub fn internal(error: impl std::fmt::Display) -> PageError {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Internal error: {error} (please report this)."),
        )
    }
}

impl<E: Into<super::store::StoreError>> From<E> for PageError {
    fn from(error: E) -> PageError {
        PageError::internal(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let html = render_text(
            "error.html",
            &ErrorPage {
                message: &self.message,
                user: None,
            },
        )
        .unwrap_or_else(|_| self.message.clone());
        (self.status, Html(html)).into_response()
    }
}

#[derive(Serialize)]
struct ErrorPage<'a> {
    message: &'a str,
    user: Option<()>,
}

/// Renders a template to text.
pub fn render_text(name: &str, context: &impl Serialize) -> Result<String, minijinja::Error> {
    environment().get_template(name)?.render(Value::from(Serde(context)))
}

/// Renders a template as a page.
pub fn render(name: &str, context: &impl Serialize) -> Result<Html<String>, PageError> {
    render_text(name, context).map(Html).map_err(PageError::internal)
}

/// Width and height of a trend line, CSS pixels.
const TREND_SIZE: (f64, f64) = (96.0, 24.0);

/// The `points` of an SVG polyline through the measured values (oldest first; unmeasured sessions are skipped),
/// scaled into the trend box with the lowest value at the bottom. Empty with fewer than two values.
pub fn trend_points(values: &[Option<f64>]) -> String {
    let measured: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| value.filter(|v| v.is_finite()).map(|v| (index, v)))
        .collect();
    if measured.len() < 2 {
        return String::new();
    }
    let (low, high) = measured
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), (_, v)| {
            (low.min(*v), high.max(*v))
        });
    let span = if high > low { high - low } else { 1.0 };
    let last = values.len().saturating_sub(1).max(1) as f64;
    let (width, height) = TREND_SIZE;
    let margin = 2.0;
    measured
        .iter()
        .map(|(index, value)| {
            let x = margin + (*index as f64 / last) * (width - 2.0 * margin);
            let y = height - margin - ((value - low) / span) * (height - 2.0 * margin);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            assert!(environment().get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn text_is_escaped() {
        let html = render_text(
            "error.html",
            &ErrorPage {
                message: "<script>alert(1)</script>",
                user: None,
            },
        )
        .expect("renders");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{html}");
        assert!(!html.contains("<script>alert"));
    }

    #[test]
    fn the_session_page_names_values_past_their_limit_instead_of_saying_all_are_within() {
        let page_with_steps = |past_limit: &[&str], walking: bool, sprinting: bool, steps: usize| {
            let context = serde_json::json!({
                "session": {"id": 1, "athlete_id": 1, "athlete_name": "Ada", "session_date": "2026-12-04",
                            "clip_name": "run.mp4", "uploaded_by": "alex"},
                "job": {"state": "done"},
                "shown": true,
                "options": {"speed": "", "height_cm": "", "view": "auto", "model": "auto", "runner_at": "",
                            "detect_every_frame": "false"},
                "headline": {"metrics": [], "flags": [], "warnings": [], "steps": steps,
                             "past_limit_unflagged": past_limit, "walking": walking, "sprinting": sprinting},
            });
            render_text("session.html", &context).expect("renders")
        };
        let page =
            |past_limit: &[&str], walking: bool, sprinting: bool| page_with_steps(past_limit, walking, sprinting, 17);
        let near = page(
            &["Tibia angle at initial contact", "Overstride (heel ahead of hips)"],
            false,
            false,
        );
        assert!(
            near.contains("by more than its uncertainty")
                && near.contains("not flagged: Tibia angle at initial contact, Overstride (heel ahead of hips).")
                && !near.contains("every measured value is within"),
            "{near}"
        );
        assert!(page(&[], false, false).contains("every measured value is within its reference range"));
        let walking = page(&[], true, false);
        assert!(
            walking.contains("No flag is raised on walking") && !walking.contains("every measured value"),
            "{walking}"
        );
        // A sprint: the overstride past its limit is not called within range, nor flagged.
        let sprint = page(&["Overstride (heel ahead of hips)"], false, true);
        assert!(
            sprint.contains("No flag is raised on a sprint") && !sprint.contains("No flags:"),
            "{sprint}"
        );
        // Nothing measured: nothing is said to be within its range.
        let nothing = page_with_steps(&[], false, false, 0);
        assert!(
            nothing.contains("Nothing could be measured") && !nothing.contains("every measured value"),
            "{nothing}"
        );
    }

    #[test]
    fn trend_lines_span_the_box_and_skip_gaps() {
        assert_eq!(trend_points(&[Some(1.0)]), "");
        assert_eq!(trend_points(&[Some(1.0), None, Some(3.0)]), "2.0,22.0 94.0,2.0");
        assert_eq!(trend_points(&[Some(5.0), Some(5.0)]), "2.0,22.0 94.0,22.0");
    }
}
