//! What the recognisers look at, gathered once from the parsed message: a few headers, the
//! human-readable notice, the machine-readable report parts, and the ids of the returned
//! message.

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::{clean_address, clean_id};
use crate::extract::html;

#[derive(Debug, Default)]
pub(super) struct View {
    /// From's address, lower-case.
    pub from_address: String,
    /// From's display name, lower-case.
    pub from_name: String,
    pub subject: String,
    /// Raw, trimmed values of single headers, looked up by [`View::header`].
    headers: Vec<(&'static str, String)>,
    /// `report-type` of a top-level multipart/report, lower-case.
    pub report_type: Option<String>,
    /// Bodies of message/delivery-status parts.
    pub delivery_status: Vec<String>,
    /// Bodies of message/disposition-notification parts.
    pub disposition: Vec<String>,
    /// The text parts of the report itself (not of the returned message), CRLF normalised.
    pub text: String,
    /// Message-IDs of returned messages (message/rfc822, text/rfc822-headers parts).
    pub returned_ids: Vec<String>,
    /// The report's own In-Reply-To and References.
    pub thread_ids: Vec<String>,
    /// Addresses of the report's own From, To, Cc and Reply-To (never the failed ones).
    pub own_addresses: Vec<String>,
}

const HEADERS: &[&str] = &[
    "Return-Path",
    "X-Envelope-From",
    "X-Failed-Recipients",
    "Auto-Submitted",
    "X-MS-Exchange-Message-Is-Ndr",
];

impl View {
    pub fn of(msg: &Message<'_>) -> Self {
        let (from_address, from_name) = first_mailbox(msg.from());
        let mut view = View {
            from_address,
            from_name,
            subject: msg.subject().unwrap_or_default().trim().to_string(),
            headers: HEADERS
                .iter()
                .filter_map(|name| msg.header_raw(*name).map(|v| (*name, v.trim().to_string())))
                .collect(),
            report_type: msg
                .content_type()
                .filter(|ct| {
                    ct.ctype().eq_ignore_ascii_case("multipart")
                        && ct
                            .subtype()
                            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
                })
                .and_then(|ct| ct.attribute("report-type"))
                .map(|t| t.trim().to_ascii_lowercase()),
            thread_ids: ids(msg.in_reply_to())
                .into_iter()
                .chain(ids(msg.references()))
                .collect(),
            own_addresses: [msg.from(), msg.to(), msg.cc(), msg.reply_to()]
                .into_iter()
                .flat_map(addresses)
                .collect(),
            ..View::default()
        };
        view.read_parts(msg);
        view
    }

    /// A header's raw value, if present (names as listed in `HEADERS`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn read_parts(&mut self, msg: &Message<'_>) {
        let mut plain = Vec::new();
        let mut html_texts = Vec::new();
        for part in &msg.parts {
            let (ctype, subtype) = part
                .content_type()
                .map(|ct| {
                    (
                        ct.ctype().to_ascii_lowercase(),
                        ct.subtype().unwrap_or_default().to_ascii_lowercase(),
                    )
                })
                .unwrap_or_else(|| ("text".into(), "plain".into()));
            let body = || String::from_utf8_lossy(part.contents()).replace("\r\n", "\n");
            match (&part.body, ctype.as_str(), subtype.as_str()) {
                (PartType::Message(nested), _, _) => {
                    self.returned_ids
                        .extend(nested.message_id().and_then(clean_id));
                }
                (PartType::Multipart(_), _, _) => {}
                (_, "message", "delivery-status" | "global-delivery-status") => {
                    self.delivery_status.push(body());
                }
                (_, "message", "disposition-notification" | "global-disposition-notification") => {
                    self.disposition.push(body());
                }
                (_, "message", "rfc822" | "global")
                | (_, "text", "rfc822-headers" | "global-headers") => {
                    self.returned_ids
                        .extend(headers_message_id(part.contents()));
                }
                (PartType::Html(text), _, _) => html_texts.push(html::to_text(text)),
                (PartType::Text(text), "text", "plain") => plain.push(text.replace("\r\n", "\n")),
                _ => {}
            }
        }
        if plain.is_empty() {
            plain = html_texts;
        }
        self.text = plain.join("\n\n");
    }
}

/// The Message-ID in a block of headers (a returned message, or only its headers).
fn headers_message_id(raw: &[u8]) -> Option<String> {
    MessageParser::default()
        .parse_headers(raw)
        .and_then(|m| m.message_id().and_then(clean_id))
}

fn first_mailbox(address: Option<&Address<'_>>) -> (String, String) {
    let first = address.and_then(|a| a.first());
    let email = first
        .and_then(|a| a.address())
        .map(|a| a.trim().to_lowercase())
        .unwrap_or_default();
    let name = first
        .and_then(|a| a.name())
        .map(|n| n.trim().to_lowercase())
        .unwrap_or_default();
    (email, name)
}

fn addresses(address: Option<&Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|a| a.address().and_then(clean_address))
                .collect()
        })
        .unwrap_or_default()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => clean_id(id).into_iter().collect(),
        HeaderValue::TextList(list) => list.iter().filter_map(|id| clean_id(id)).collect(),
        _ => Vec::new(),
    }
}
