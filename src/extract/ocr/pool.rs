//! A pool of OCR worker processes.
//!
//! Each worker is a child process running [`super::worker_main`], started with `OMP_THREAD_LIMIT=1`
//! so one page uses one core; `workers` pages are read at once. A page that takes longer than
//! `page_timeout`, or a worker that crashes, costs only that page: the child is killed and a fresh
//! one is started for the next page. Workers start lazily and stay up between pages (loading
//! `ind+eng` takes about half a second).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

use super::protocol::{encode_request, parse_reply, Reply, MAX_FRAME};
use super::{OcrError, OcrResult, PageError, PageImage, PdfPages};

/// How to start OCR workers and how long to wait for them.
#[derive(Debug, Clone)]
pub struct OcrConfig {
    /// The worker program: the `loket` binary (with `args = ["__ocr-worker"]`) or a test binary.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Tesseract languages, passed as the last argument (config `ocr.languages`, e.g. `ind+eng`).
    pub languages: String,
    /// Pages read at once (config `ocr.workers`).
    pub workers: usize,
    /// Time limit for one page, orientation trials included.
    pub page_timeout: Duration,
    /// Time limit for a worker to load its languages.
    pub start_timeout: Duration,
}

impl OcrConfig {
    /// Workers run as `<this executable> __ocr-worker <languages>`.
    pub fn current_exe(languages: &str, workers: usize) -> std::io::Result<OcrConfig> {
        Ok(OcrConfig {
            program: std::env::current_exe()?,
            args: vec!["__ocr-worker".into()],
            languages: languages.into(),
            workers,
            page_timeout: Duration::from_secs(60),
            start_timeout: Duration::from_secs(30),
        })
    }
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// OCR worker processes shared by all documents; `ocr` may be called from many tasks at once.
/// Use it from one tokio runtime: a worker's pipes belong to the runtime that started it.
pub struct OcrPool {
    config: OcrConfig,
    permits: Semaphore,
    idle: Mutex<Vec<Worker>>,
}

impl OcrPool {
    pub fn new(config: OcrConfig) -> OcrPool {
        let workers = config.workers.max(1);
        OcrPool {
            config,
            permits: Semaphore::new(workers),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub fn workers(&self) -> usize {
        self.config.workers.max(1)
    }

    /// Read one page. Waits for a free worker; the time limit starts when the page is sent.
    pub async fn ocr(&self, page: PageImage) -> Result<OcrResult, OcrError> {
        let _permit = self.permits.acquire().await.map_err(|_| OcrError::Spawn {
            program: self.config.program.display().to_string(),
            detail: "pool closed".into(),
        })?;
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let mut worker = match idle {
            Some(w) => w,
            None => self.spawn().await?,
        };
        let frame = encode_request(&page.image, page.dpi);
        drop(page);
        let secs = self.config.page_timeout.as_secs();
        match tokio::time::timeout(self.config.page_timeout, exchange(&mut worker, &frame)).await {
            Ok(Ok(reply)) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push(worker);
                }
                match reply {
                    Reply::Done(r) => Ok(r),
                    Reply::Failed(e) => Err(OcrError::Engine(e)),
                    Reply::Ready => Err(OcrError::Protocol("unexpected ready".into())),
                }
            }
            Ok(Err(e)) => Err(OcrError::WorkerDied(bury(worker, e).await)),
            Err(_) => {
                tracing::warn!(secs, "OCR page hit the time limit; worker killed");
                bury(worker, String::new()).await;
                Err(OcrError::Timeout { secs })
            }
        }
    }

    async fn spawn(&self) -> Result<Worker, OcrError> {
        let c = &self.config;
        let spawn_err = |detail: String| OcrError::Spawn {
            program: c.program.display().to_string(),
            detail,
        };
        let mut child = Command::new(&c.program)
            .args(&c.args)
            .arg(&c.languages)
            // libgomp reads this when tesseract loads: one thread per page, pages in parallel.
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| spawn_err(e.to_string()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(spawn_err("no pipes".into()));
        };
        let mut worker = Worker {
            child,
            stdin,
            stdout,
        };
        match tokio::time::timeout(c.start_timeout, read_frame(&mut worker.stdout)).await {
            Ok(Ok(body)) => match parse_reply(&body) {
                Ok(Reply::Ready) => Ok(worker),
                Ok(Reply::Failed(e)) => Err(spawn_err(e)),
                Ok(other) => Err(spawn_err(format!("unexpected {other:?}"))),
                Err(e) => Err(spawn_err(e)),
            },
            Ok(Err(e)) => Err(spawn_err(bury(worker, e).await)),
            Err(_) => {
                bury(worker, String::new()).await;
                Err(spawn_err("did not start in time".into()))
            }
        }
    }
}

async fn exchange(worker: &mut Worker, frame: &[u8]) -> Result<Reply, String> {
    worker
        .stdin
        .write_all(frame)
        .await
        .map_err(|e| e.to_string())?;
    worker.stdin.flush().await.map_err(|e| e.to_string())?;
    let body = read_frame(&mut worker.stdout).await?;
    parse_reply(&body)
}

async fn read_frame(r: &mut ChildStdout) -> Result<Vec<u8>, String> {
    let len = r.read_u32_le().await.map_err(|e| e.to_string())? as usize;
    if len > MAX_FRAME {
        return Err(format!("reply of {len} bytes"));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).await.map_err(|e| e.to_string())?;
    Ok(body)
}

/// Kill a worker that failed and describe how it ended.
async fn bury(mut worker: Worker, what: String) -> String {
    let _ = worker.child.start_kill();
    match worker.child.wait().await {
        Ok(status) if what.is_empty() => status.to_string(),
        Ok(status) => format!("{what} ({status})"),
        Err(_) => what,
    }
}

/// One page of [`ocr_pdf_pages`].
#[derive(Debug)]
pub struct OcrPage {
    /// Page index, from 0.
    pub index: usize,
    /// How the page image was obtained (see [`PageImage::how`]), when it was.
    pub how: Option<&'static str>,
    pub result: Result<OcrResult, PageError>,
}

/// OCR the given pages of a PDF through the pool, in page order. At most `workers + 1` page images
/// exist at once, so memory stays bounded however long the document.
pub async fn ocr_pdf_pages(pool: &OcrPool, pdf: Arc<PdfPages>, pages: &[usize]) -> Vec<OcrPage> {
    futures::stream::iter(pages.iter().copied())
        .map(|index| {
            let pdf = Arc::clone(&pdf);
            async move {
                let image = tokio::task::spawn_blocking(move || pdf.page_image(index)).await;
                let image = match image {
                    Ok(Ok(img)) => img,
                    Ok(Err(e)) => return page_failed(index, None, e.into()),
                    Err(e) => {
                        return page_failed(index, None, OcrError::WorkerDied(e.to_string()).into())
                    }
                };
                let how = Some(image.how);
                let result = pool.ocr(image).await.map_err(PageError::from);
                OcrPage { index, how, result }
            }
        })
        .buffered(pool.workers())
        .collect()
        .await
}

fn page_failed(index: usize, how: Option<&'static str>, e: PageError) -> OcrPage {
    OcrPage {
        index,
        how,
        result: Err(e),
    }
}

impl std::fmt::Debug for OcrPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrPool")
            .field("program", &self.config.program)
            .field("workers", &self.config.workers)
            .finish()
    }
}
