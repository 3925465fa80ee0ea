//! Amazon SES notifications: JSON, either as SES publishes it (`notificationType`, or
//! `eventType` for configuration-set events) or wrapped in an SNS envelope whose `Message`
//! is that JSON as a string. It reaches us as the body of an SNS email subscription (with
//! SNS's footer after it) or, from an HTTP endpoint, as the whole input.
//!
//! `Bounce` notifications are reports; `bounceType` Permanent is [`Severity::Permanent`],
//! Transient and Undetermined are [`Severity::Delayed`] (SES's own advice: only permanent
//! bounces should remove an address). `Delivery` is a report that is no failure;
//! `DeliveryDelay` is delayed. Complaints are not delivery reports: `None`.

use serde_json::Value;

use super::codes::enhanced_status;
use super::{clean_address, clean_id, collapse, Bounce, FailedRecipient, Severity};

/// The notification in `text`, if it holds one.
pub(super) fn from_text(text: &str) -> Option<Bounce> {
    if !(text.contains("notificationType") || text.contains("eventType")) {
        return None;
    }
    let start = text.find('{')?;
    let value: Value = serde_json::Deserializer::from_str(&text[start..])
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let value = unwrap_sns(value);
    notification(&value)
}

/// The SES notification inside an SNS envelope (`"Type": "Notification"`), or `value`.
fn unwrap_sns(value: Value) -> Value {
    match value.get("Message").and_then(Value::as_str) {
        Some(inner) if value.get("Type").and_then(Value::as_str) == Some("Notification") => {
            serde_json::from_str(inner).unwrap_or(value)
        }
        _ => value,
    }
}

fn notification(value: &Value) -> Option<Bounce> {
    let kind = value
        .get("notificationType")
        .or_else(|| value.get("eventType"))
        .and_then(Value::as_str)?;
    let recipients = match kind {
        "Bounce" => {
            let bounce = value.get("bounce")?;
            let severity = match bounce.get("bounceType").and_then(Value::as_str) {
                Some("Permanent") => Severity::Permanent,
                _ => Severity::Delayed,
            };
            listed(bounce.get("bouncedRecipients"), severity)
        }
        "DeliveryDelay" => listed(
            value
                .get("deliveryDelay")
                .and_then(|d| d.get("delayedRecipients")),
            Severity::Delayed,
        ),
        "Delivery" => value
            .get("delivery")
            .and_then(|d| d.get("recipients"))
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .filter_map(clean_address)
                    .map(|address| FailedRecipient {
                        address,
                        status: None,
                        severity: Severity::NotAFailure,
                        diagnostic: None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => return None,
    };
    Some(Bounce {
        original_message_ids: message_ids(value.get("mail")),
        recipients,
        format: "ses",
    })
}

/// `bouncedRecipients` / `delayedRecipients`: `emailAddress`, `status`, `diagnosticCode`.
fn listed(list: Option<&Value>, severity: Severity) -> Vec<FailedRecipient> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|r| {
            let address = clean_address(r.get("emailAddress")?.as_str()?)?;
            let diagnostic = r
                .get("diagnosticCode")
                .and_then(Value::as_str)
                .map(|d| collapse(d.strip_prefix("smtp;").unwrap_or(d)));
            let status = r
                .get("status")
                .and_then(Value::as_str)
                .and_then(enhanced_status)
                .or_else(|| diagnostic.as_deref().and_then(enhanced_status));
            Some(FailedRecipient {
                address,
                status,
                severity,
                diagnostic,
            })
        })
        .collect()
}

/// Our Message-ID: `commonHeaders.messageId`, else the `Message-ID` among `headers`.
/// (`mail.messageId` is SES's own id, not ours.)
fn message_ids(mail: Option<&Value>) -> Vec<String> {
    let Some(mail) = mail else {
        return Vec::new();
    };
    let common = mail
        .get("commonHeaders")
        .and_then(|h| h.get("messageId"))
        .and_then(Value::as_str);
    let listed = mail
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|h| {
            h.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("message-id"))
        })
        .filter_map(|h| h.get("value").and_then(Value::as_str));
    let mut ids: Vec<String> = Vec::new();
    for id in common.into_iter().chain(listed).filter_map(clean_id) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}
