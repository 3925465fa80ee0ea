//! Extraction: raw bytes in (a whole email, or one document), structured content and text out.
//!
//! - [`mime`]: an RFC 5322 message into sender, subject, body text and attachments.
//! - [`sniff`]: what a document really is, by its bytes.
//! - [`pdf`]: the text layer of PDFs (OCR of scanned pages is a later stage; see [`document`]).
//! - [`document`]: one attachment into per-page text, or a recorded reason why not.
//! - [`bounce`]: delivery failure reports: which of our messages failed, for whom, how badly.
//! - [`reply`]: a body into the new text the sender wrote, quoted history and signature.

pub mod archive;
pub mod bounce;
pub mod document;
pub mod form;
pub mod html;
pub mod mime;
pub mod ocr;
pub mod pdf;
pub mod reply;
pub mod sniff;
pub mod tnef;

#[cfg(test)]
mod corpus_tests;
