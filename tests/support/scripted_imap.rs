//! A scripted IMAP4rev1 server on loopback, for the faults Dovecot never shows: a FETCH answer
//! without RFC822.SIZE or without the message, and servers without MOVE or UIDPLUS.
//!
//! It speaks just what loket's client sends (greeting, CAPABILITY, LOGIN, LIST, CREATE,
//! SELECT/EXAMINE, UID SEARCH, UID FETCH, UID STORE, UID COPY, UID MOVE, UID EXPUNGE, EXPUNGE,
//! NOOP, LOGOUT) over mailboxes held in memory, and records every command it receives. IDLE is
//! never offered, so a client polls. The answers copy the form of Dovecot 2.3.19's, captured from
//! the harness's Dovecot:
//!
//! ```text
//! C: A0009 SELECT "INBOX"
//! S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
//!    * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
//!    * 3 EXISTS
//!    * 3 RECENT
//!    * OK [UIDVALIDITY 1796118124] UIDs valid
//!    * OK [UIDNEXT 4] Predicted next UID
//!    A0009 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).
//! C: A0011 UID FETCH 1,2,3 (UID RFC822.SIZE)
//! S: * 1 FETCH (UID 1 RFC822.SIZE 42)
//!    ...
//! C: A0012 UID FETCH 1,2 (UID BODY.PEEK[])
//! S: * 1 FETCH (UID 1 BODY[] {42}
//!    <42 bytes>)
//! C: A0017 UID MOVE 2 "Processed"
//! S: * OK [COPYUID 1796118125 2 2] Moved UIDs.
//!    * 1 EXPUNGE
//!    A0017 OK Move completed (0.002 + 0.000 + 0.001 secs).
//! ```
//!
//! A fault is a switch per UID: [`ScriptedImap::omit_size`] leaves RFC822.SIZE out of the answer,
//! [`ScriptedImap::omit_body`] answers `* n FETCH (UID u)` instead of the content, once or always.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::HOST;

/// Dovecot 2.3's capabilities after login, less IDLE (the server never idles).
pub const DOVECOT_CAPS: &[&str] = &[
    "IMAP4rev1",
    "LITERAL+",
    "NAMESPACE",
    "UIDPLUS",
    "CHILDREN",
    "UNSELECT",
    "MOVE",
];

/// How often a UID's FETCH answer leaves the message out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Omit {
    Once,
    Always,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub uid: u32,
    pub raw: Vec<u8>,
    pub deleted: bool,
}

#[derive(Debug)]
pub struct Folder {
    pub uidvalidity: u32,
    next_uid: u32,
    pub messages: Vec<Message>,
}

/// The server's mailboxes, for tests that change them behind the client's back.
#[derive(Debug)]
pub struct Mailboxes(BTreeMap<String, Folder>);

impl Mailboxes {
    /// Creates an empty `folder` unless it exists.
    fn create(&mut self, folder: &str) -> &mut Folder {
        let n = self.0.len() as u32;
        self.0.entry(folder.to_string()).or_insert_with(|| Folder {
            uidvalidity: 1796118124 + n,
            next_uid: 1,
            messages: Vec::new(),
        })
    }

    /// Adds `raw` to `folder` (created if needed); returns its UID.
    pub fn append(&mut self, folder: &str, raw: &[u8]) -> u32 {
        let f = self.create(folder);
        let uid = f.next_uid;
        f.next_uid += 1;
        f.messages.push(Message {
            uid,
            raw: raw.to_vec(),
            deleted: false,
        });
        uid
    }

    /// Flags a message `\Deleted`, as another mail client would.
    pub fn flag_deleted(&mut self, folder: &str, uid: u32) {
        if let Some(m) = self.message_mut(folder, uid) {
            m.deleted = true;
        }
    }

    fn message_mut(&mut self, folder: &str, uid: u32) -> Option<&mut Message> {
        self.0
            .get_mut(folder)?
            .messages
            .iter_mut()
            .find(|m| m.uid == uid)
    }
}

type Hook = Box<dyn FnOnce(&mut Mailboxes) + Send>;

struct State {
    caps: Vec<String>,
    mailboxes: Mailboxes,
    no_size: HashSet<u32>,
    no_body: HashMap<u32, Omit>,
    commands: Vec<String>,
    hooks: Vec<(String, Hook)>,
}

/// A running scripted server; it lives until the test process exits.
pub struct ScriptedImap {
    pub host: String,
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl ScriptedImap {
    /// Starts a server with `caps` after login (see [`DOVECOT_CAPS`]) and an empty INBOX.
    pub fn start(caps: &[&str]) -> ScriptedImap {
        let listener = std::net::TcpListener::bind((HOST, 0)).expect("bind the scripted IMAP port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("local address").port();
        let mut mailboxes = Mailboxes(BTreeMap::new());
        mailboxes.create("INBOX");
        let state = Arc::new(Mutex::new(State {
            caps: caps.iter().map(|c| c.to_string()).collect(),
            mailboxes,
            no_size: HashSet::new(),
            no_body: HashMap::new(),
            commands: Vec::new(),
            hooks: Vec::new(),
        }));
        let shared = state.clone();
        std::thread::Builder::new()
            .name(format!("scripted-imap-{port}"))
            .spawn(move || accept_forever(listener, shared))
            .expect("spawn the scripted IMAP thread");
        ScriptedImap {
            host: HOST.to_string(),
            port,
            state,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers `raw` to INBOX; returns its UID.
    pub fn deliver(&self, raw: &[u8]) -> u32 {
        self.state().mailboxes.append("INBOX", raw)
    }

    /// FETCH answers for `uid` leave RFC822.SIZE out.
    pub fn omit_size(&self, uid: u32) {
        self.state().no_size.insert(uid);
    }

    /// FETCH answers for `uid` leave the message content out, once or always.
    pub fn omit_body(&self, uid: u32, how: Omit) {
        self.state().no_body.insert(uid, how);
    }

    /// The server recovers: every FETCH answer is complete again.
    pub fn clear_faults(&self) {
        let mut st = self.state();
        st.no_size.clear();
        st.no_body.clear();
    }

    /// Runs `change` just before the first command starting with `prefix` (e.g. `"UID COPY"`)
    /// is answered: another client acting while loket is in the middle of something.
    pub fn before_first(&self, prefix: &str, change: impl FnOnce(&mut Mailboxes) + Send + 'static) {
        self.state()
            .hooks
            .push((prefix.to_ascii_uppercase(), Box::new(change)));
    }

    /// Every command received so far, without its tag, oldest first.
    pub fn commands(&self) -> Vec<String> {
        self.state().commands.clone()
    }

    /// The messages in `folder` (empty if it does not exist), in UID order.
    pub fn messages(&self, folder: &str) -> Vec<Message> {
        self.state()
            .mailboxes
            .0
            .get(folder)
            .map(|f| f.messages.clone())
            .unwrap_or_default()
    }
}

fn accept_forever(listener: std::net::TcpListener, state: Arc<Mutex<State>>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("scripted IMAP runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        while let Ok((stream, _)) = listener.accept().await {
            let state = state.clone();
            tokio::spawn(async move {
                let _ = serve(stream, state).await;
            });
        }
    });
}

/// One client connection: a greeting, then one answer per command line.
async fn serve(stream: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write
        .write_all(b"* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] Dovecot (Debian) ready.\r\n")
        .await?;
    let mut session = Conn { selected: None };
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let (tag, command) = line.split_once(' ').unwrap_or((line, ""));
        let (reply, close) = {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            st.commands.push(command.to_string());
            st.run_hooks(command);
            session.answer(&mut st, tag, command)
        };
        write.write_all(&reply).await?;
        if close {
            return Ok(());
        }
    }
}

impl State {
    fn run_hooks(&mut self, command: &str) {
        let upper = command.to_ascii_uppercase();
        while let Some(i) = self.hooks.iter().position(|(p, _)| upper.starts_with(p)) {
            let (_, hook) = self.hooks.remove(i);
            hook(&mut self.mailboxes);
        }
    }

    fn has(&self, cap: &str) -> bool {
        self.caps.iter().any(|c| c.eq_ignore_ascii_case(cap))
    }
}

struct Conn {
    selected: Option<String>,
}

/// The lines of one answer.
#[derive(Default)]
struct Reply(Vec<u8>);

impl Reply {
    fn line(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
        self.0.extend_from_slice(b"\r\n");
    }
}

impl Conn {
    /// The answer to one command, and whether the connection closes after it.
    fn answer(&mut self, st: &mut State, tag: &str, command: &str) -> (Vec<u8>, bool) {
        let words = tokens(command);
        let name = words
            .first()
            .map(|w| w.to_ascii_uppercase())
            .unwrap_or_default();
        let mut out = Reply::default();
        let mut close = false;
        let done = match name.as_str() {
            "CAPABILITY" => {
                out.line(&format!("* CAPABILITY {}", st.caps.join(" ")));
                "OK Capability completed.".to_string()
            }
            "LOGIN" => format!("OK [CAPABILITY {}] Logged in", st.caps.join(" ")),
            "NOOP" | "CHECK" => "OK NOOP completed (0.001 + 0.000 secs).".into(),
            "LOGOUT" => {
                out.line("* BYE Logging out");
                close = true;
                "OK Logout completed (0.001 + 0.000 secs).".into()
            }
            "LIST" => list(st, &words, &mut out),
            "CREATE" => {
                let name = unquote(words.get(1).map(String::as_str).unwrap_or(""));
                if st.mailboxes.0.contains_key(&name) {
                    "NO Mailbox already exists".into()
                } else {
                    st.mailboxes.create(&name);
                    "OK Create completed (0.002 + 0.000 + 0.001 secs).".into()
                }
            }
            "SELECT" | "EXAMINE" => self.select(st, &name, &words, &mut out),
            "EXPUNGE" => match self.folder(st) {
                Some(f) => {
                    expunge(f, |m| m.deleted, &mut out);
                    "OK Expunge completed (0.001 + 0.000 secs).".into()
                }
                None => "BAD No mailbox selected.".into(),
            },
            "UID" => self.uid(st, &words[1..], &mut out),
            _ => format!("BAD Error in IMAP command {name}: Unknown command."),
        };
        out.line(&format!("{tag} {done}"));
        (out.0, close)
    }

    fn folder<'a>(&self, st: &'a mut State) -> Option<&'a mut Folder> {
        st.mailboxes.0.get_mut(self.selected.as_deref()?)
    }

    fn select(&mut self, st: &mut State, name: &str, words: &[String], out: &mut Reply) -> String {
        let folder = unquote(words.get(1).map(String::as_str).unwrap_or(""));
        let Some(f) = st.mailboxes.0.get(&folder) else {
            self.selected = None;
            return format!("NO Mailbox doesn't exist: {folder}");
        };
        out.line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
        out.line("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.");
        out.line(&format!("* {} EXISTS", f.messages.len()));
        out.line("* 0 RECENT");
        out.line(&format!("* OK [UIDVALIDITY {}] UIDs valid", f.uidvalidity));
        out.line(&format!("* OK [UIDNEXT {}] Predicted next UID", f.next_uid));
        self.selected = Some(folder);
        if name == "EXAMINE" {
            "OK [READ-ONLY] Examine completed (0.001 + 0.000 secs).".into()
        } else {
            "OK [READ-WRITE] Select completed (0.001 + 0.000 secs).".into()
        }
    }

    /// `UID SEARCH|FETCH|STORE|COPY|MOVE|EXPUNGE ...` (`words` after `UID`).
    fn uid(&mut self, st: &mut State, words: &[String], out: &mut Reply) -> String {
        let sub = words
            .first()
            .map(|w| w.to_ascii_uppercase())
            .unwrap_or_default();
        let allowed = match sub.as_str() {
            "MOVE" => st.has("MOVE"),
            "EXPUNGE" => st.has("UIDPLUS"),
            "SEARCH" | "FETCH" | "STORE" | "COPY" => true,
            _ => false,
        };
        if !allowed {
            return format!("BAD Error in IMAP command UID {sub}: Unknown command.");
        }
        let Some(selected) = self.selected.clone() else {
            return "BAD No mailbox selected.".into();
        };
        let set = words.get(1).cloned().unwrap_or_default();
        match sub.as_str() {
            "SEARCH" => search(st, &selected, &words[1..], out),
            "FETCH" => fetch(st, &selected, &set, &words[2..].join(" "), out),
            "STORE" => store(st, &selected, &set, &words[2..].join(" "), out),
            "COPY" | "MOVE" => {
                let dest = unquote(words.get(2).map(String::as_str).unwrap_or(""));
                copy(st, &selected, &set, &dest, sub == "MOVE", out)
            }
            _ => {
                let f = st.mailboxes.0.get_mut(&selected).expect("selected folder");
                let max = max_uid(f);
                expunge(f, |m| m.deleted && in_set(&set, m.uid, max), out);
                "OK Expunge completed (0.001 + 0.000 secs).".into()
            }
        }
    }
}

fn list(st: &State, words: &[String], out: &mut Reply) -> String {
    let pattern = unquote(words.get(2).map(String::as_str).unwrap_or(""));
    for name in st.mailboxes.0.keys() {
        if pattern == "*" || *name == pattern {
            out.line(&format!("* LIST (\\HasNoChildren) \".\" {name}"));
        }
    }
    "OK List completed (0.001 + 0.000 secs).".into()
}

fn search(st: &State, folder: &str, args: &[String], out: &mut Reply) -> String {
    let f = &st.mailboxes.0[folder];
    let max = max_uid(f);
    let set = match args.first().map(|a| a.to_ascii_uppercase()).as_deref() {
        Some("UID") => args.get(1).cloned().unwrap_or_default(),
        _ => "1:*".into(),
    };
    let uids: Vec<String> = f
        .messages
        .iter()
        .filter(|m| in_set(&set, m.uid, max))
        .map(|m| m.uid.to_string())
        .collect();
    out.line(format!("* SEARCH {}", uids.join(" ")).trim_end());
    "OK Search completed (0.001 + 0.000 secs).".into()
}

fn fetch(st: &mut State, folder: &str, set: &str, items: &str, out: &mut Reply) -> String {
    let items = items.to_ascii_uppercase();
    let want_size = items.contains("RFC822.SIZE");
    let want_header = items.contains("BODY.PEEK[HEADER]") || items.contains("BODY[HEADER]");
    let want_body = items.contains("BODY.PEEK[]") || items.contains("BODY[]");
    let f = &st.mailboxes.0[folder];
    let max = max_uid(f);
    for (i, m) in f.messages.iter().enumerate() {
        if !in_set(set, m.uid, max) {
            continue;
        }
        let mut line = format!("* {} FETCH (UID {}", i + 1, m.uid).into_bytes();
        if want_size && !st.no_size.contains(&m.uid) {
            line.extend_from_slice(format!(" RFC822.SIZE {}", m.raw.len()).as_bytes());
        }
        let omit = match st.no_body.get(&m.uid) {
            Some(Omit::Always) => true,
            Some(Omit::Once) => (want_body || want_header) && st.no_body.remove(&m.uid).is_some(),
            None => false,
        };
        let content = match (omit, want_body, want_header) {
            (false, true, _) => Some(("BODY[]", m.raw.clone())),
            (false, false, true) => Some(("BODY[HEADER]", header_block(&m.raw).to_vec())),
            _ => None,
        };
        if let Some((section, data)) = content {
            line.extend_from_slice(format!(" {section} {{{}}}\r\n", data.len()).as_bytes());
            line.extend_from_slice(&data);
        }
        line.extend_from_slice(b")\r\n");
        out.0.extend_from_slice(&line);
    }
    "OK Fetch completed (0.001 + 0.000 secs).".into()
}

fn store(st: &mut State, folder: &str, set: &str, change: &str, out: &mut Reply) -> String {
    let change = change.to_ascii_uppercase();
    let deleted = change.contains("\\DELETED");
    let add = change.starts_with('+');
    let silent = change.contains(".SILENT");
    let f = st.mailboxes.0.get_mut(folder).expect("selected folder");
    let max = max_uid(f);
    for (i, m) in f.messages.iter_mut().enumerate() {
        if !in_set(set, m.uid, max) {
            continue;
        }
        if deleted {
            m.deleted = add;
        }
        if !silent {
            let flags = if m.deleted { "\\Deleted" } else { "" };
            out.line(&format!(
                "* {} FETCH (UID {} FLAGS ({flags}))",
                i + 1,
                m.uid
            ));
        }
    }
    "OK Store completed (0.001 + 0.000 secs).".into()
}

fn copy(
    st: &mut State,
    from: &str,
    set: &str,
    dest: &str,
    moving: bool,
    out: &mut Reply,
) -> String {
    if !st.mailboxes.0.contains_key(dest) {
        return format!("NO [TRYCREATE] Mailbox doesn't exist: {dest}");
    }
    let uidplus = st.has("UIDPLUS");
    let source = &st.mailboxes.0[from];
    let max = max_uid(source);
    let picked: Vec<Message> = source
        .messages
        .iter()
        .filter(|m| in_set(set, m.uid, max))
        .cloned()
        .collect();
    if picked.is_empty() {
        return "OK No messages found (0.001 + 0.000 secs).".into();
    }
    let new_uids: Vec<u32> = picked
        .iter()
        .map(|m| st.mailboxes.append(dest, &m.raw))
        .collect();
    let code = if uidplus {
        let join = |v: Vec<u32>| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        format!(
            "[COPYUID {} {} {}] ",
            st.mailboxes.0[dest].uidvalidity,
            join(picked.iter().map(|m| m.uid).collect()),
            join(new_uids)
        )
    } else {
        String::new()
    };
    if !moving {
        return format!("OK {code}Copy completed (0.001 + 0.000 secs).");
    }
    out.line(&format!("* OK {code}Moved UIDs."));
    let f = st.mailboxes.0.get_mut(from).expect("selected folder");
    expunge(f, |m| picked.iter().any(|p| p.uid == m.uid), out);
    "OK Move completed (0.002 + 0.000 + 0.001 secs).".into()
}

/// Removes the messages that `pick` selects, answering `* n EXPUNGE` with each one's sequence
/// number at the time it goes.
fn expunge(f: &mut Folder, pick: impl Fn(&Message) -> bool, out: &mut Reply) {
    let mut i = 0;
    while i < f.messages.len() {
        if pick(&f.messages[i]) {
            out.line(&format!("* {} EXPUNGE", i + 1));
            f.messages.remove(i);
        } else {
            i += 1;
        }
    }
}

fn max_uid(f: &Folder) -> u32 {
    f.messages.iter().map(|m| m.uid).max().unwrap_or(0)
}

/// Whether `uid` is in an IMAP UID set such as `1,4:6,9:*` (`*` is the highest UID).
fn in_set(set: &str, uid: u32, max: u32) -> bool {
    let num = |s: &str| if s == "*" { Some(max) } else { s.parse().ok() };
    set.split(',').any(|part| match part.split_once(':') {
        Some((a, b)) => match (num(a), num(b)) {
            (Some(a), Some(b)) => (a.min(b)..=a.max(b)).contains(&uid),
            _ => false,
        },
        None => num(part) == Some(uid),
    })
}

/// The header block of a raw message, blank line included (what `BODY[HEADER]` answers).
fn header_block(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(raw.len());
    &raw[..end]
}

/// Splits a command line into words; a quoted string or a parenthesised list is one word.
fn tokens(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
            continue;
        }
        let mut word = String::new();
        let (mut quoted, mut depth, mut escaped) = (false, 0, false);
        while let Some(&c) = chars.peek() {
            if c == ' ' && !quoted && depth == 0 {
                break;
            }
            chars.next();
            word.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '(' | '[' if !quoted => depth += 1,
                ')' | ']' if !quoted => depth -= 1,
                _ => {}
            }
        }
        words.push(word);
    }
    words
}

/// A quoted IMAP string's value (an atom is returned as it is).
fn unquote(word: &str) -> String {
    let Some(inner) = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) else {
        return word.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    out
}
