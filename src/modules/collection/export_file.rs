//! The files a record export writes, page by page, so memory stays flat however many records
//! there are:
//! - CSV (RFC 4180, a header row; lists space-separated; dates RFC 3339 in UTC);
//! - JSON Lines (one record object a line, lists as arrays, with the provider's raw payload);
//! - Excel `.xlsx` through `rust_xlsxwriter` in constant-memory mode (each row goes to a
//!   temporary file as the next begins): a styled, frozen header row, numbers as numbers and
//!   dates as dates. The workbook is written on a blocking thread fed pages through a small
//!   channel, so the async worker never waits on the disk and never holds more than two pages.
//!
//! Owns no table and no storage: [`super::export`] reads the pages and stores the bytes.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{collection_export::ExportFormat, collection_record};
use serde_json::{Value, json};

use crate::{
    error::{AppError, AppResult},
    graphql::relay::{self, kind},
};

/// The columns of every format, in order.
pub const COLUMNS: &[&str] = &[
    "id",
    "platform",
    "serviceType",
    "externalId",
    "url",
    "author",
    "text",
    "hashtags",
    "mentions",
    "postedAt",
    "likes",
    "comments",
    "shares",
    "views",
    "collectedAt",
    "updatedAt",
];

/// Column widths of the workbook, in characters.
const WIDTHS: &[f64] =
    &[28.0, 12.0, 12.0, 22.0, 40.0, 20.0, 60.0, 24.0, 20.0, 20.0, 10.0, 10.0, 10.0, 12.0, 20.0, 20.0];

/// Most rows a worksheet holds, the header included (Excel's limit).
pub const XLSX_MAX_ROWS: u64 = 1_048_576;

/// Longest text an Excel cell holds.
const XLSX_MAX_CHARS: usize = 32_767;

/// One cell, typed.
enum Cell {
    Text(String),
    Int(i64),
    Date(Option<DateTime<Utc>>),
}

fn list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn cells(r: &collection_record::Model) -> [Cell; 16] {
    [
        Cell::Text(relay::to_global_id(kind::COLLECTED_RECORD, r.id).to_string()),
        Cell::Text(r.platform.clone()),
        Cell::Text(r.service_type.clone()),
        Cell::Text(r.external_id.clone()),
        Cell::Text(r.url.clone()),
        Cell::Text(r.author.clone()),
        Cell::Text(r.text.clone()),
        Cell::Text(list(&r.hashtags).join(" ")),
        Cell::Text(list(&r.mentions).join(" ")),
        Cell::Date(r.posted_at),
        Cell::Int(r.likes),
        Cell::Int(r.comments),
        Cell::Int(r.shares),
        Cell::Int(r.views),
        Cell::Date(Some(r.created_at)),
        Cell::Date(Some(r.updated_at)),
    ]
}

fn rfc3339(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A record as one JSON Lines object.
pub(crate) fn json_line(r: &collection_record::Model) -> Value {
    json!({
        "id": relay::to_global_id(kind::COLLECTED_RECORD, r.id).to_string(),
        "platform": r.platform,
        "serviceType": r.service_type,
        "externalId": r.external_id,
        "url": r.url,
        "author": r.author,
        "text": r.text,
        "hashtags": list(&r.hashtags),
        "mentions": list(&r.mentions),
        "postedAt": r.posted_at.as_ref().map(rfc3339),
        "likes": r.likes,
        "comments": r.comments,
        "shares": r.shares,
        "views": r.views,
        "collectedAt": rfc3339(&r.created_at),
        "updatedAt": rfc3339(&r.updated_at),
        "raw": r.raw,
    })
}

/// The file extension and media type of `format`.
pub fn file_type(format: ExportFormat) -> (&'static str, &'static str) {
    match format {
        ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        ExportFormat::Json => ("jsonl", "application/x-ndjson"),
        ExportFormat::Xlsx => ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("export: {e}"))
}

/// A file being written.
pub enum Sink {
    Csv,
    Json,
    Xlsx {
        pages: tokio::sync::mpsc::Sender<Vec<collection_record::Model>>,
        written: tokio::task::JoinHandle<Result<(), String>>,
        file: tempfile::NamedTempFile,
    },
}

/// What a finished sink leaves: the last bytes of a text file, or the written workbook.
pub enum Finished {
    Bytes(Vec<u8>),
    File(tempfile::NamedTempFile),
}

impl Sink {
    /// Starts a file of `format`; returns it with its first bytes (the CSV header).
    pub fn start(format: ExportFormat) -> AppResult<(Self, Vec<u8>)> {
        match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(COLUMNS).map_err(internal)?;
                Ok((Self::Csv, w.into_inner().map_err(internal)?))
            }
            ExportFormat::Json => Ok((Self::Json, Vec::new())),
            ExportFormat::Xlsx => {
                let file = tempfile::Builder::new()
                    .prefix("zygo-export-")
                    .suffix(".xlsx")
                    .tempfile()
                    .map_err(internal)?;
                let (tx, rx) = tokio::sync::mpsc::channel(2);
                let path = file.path().to_path_buf();
                let written =
                    tokio::task::spawn_blocking(move || write_workbook(rx, &path).map_err(|e| e.to_string()));
                Ok((Self::Xlsx { pages: tx, written, file }, Vec::new()))
            }
        }
    }

    /// Adds `rows`; returns the bytes now ready for the store (none for a workbook, which
    /// is stored whole when it is finished).
    pub async fn page(&mut self, rows: Vec<collection_record::Model>) -> AppResult<Vec<u8>> {
        match self {
            Self::Csv => {
                // A writer a page: each page's bytes go out as soon as they are made.
                let mut w = csv::Writer::from_writer(Vec::new());
                for r in &rows {
                    let line: Vec<String> = cells(r)
                        .into_iter()
                        .map(|c| match c {
                            Cell::Text(s) => s,
                            Cell::Int(n) => n.to_string(),
                            Cell::Date(d) => d.as_ref().map(rfc3339).unwrap_or_default(),
                        })
                        .collect();
                    w.write_record(&line).map_err(internal)?;
                }
                w.into_inner().map_err(internal)
            }
            Self::Json => {
                let mut out = Vec::new();
                for r in &rows {
                    serde_json::to_writer(&mut out, &json_line(r)).map_err(internal)?;
                    out.push(b'\n');
                }
                Ok(out)
            }
            Self::Xlsx { pages, .. } => {
                // The writer thread gone means it failed: `finish` says why.
                let _ = pages.send(rows).await;
                Ok(Vec::new())
            }
        }
    }

    /// Ends the file.
    pub async fn finish(self) -> AppResult<Finished> {
        match self {
            Self::Csv | Self::Json => Ok(Finished::Bytes(Vec::new())),
            Self::Xlsx { pages, written, file } => {
                drop(pages);
                written.await.map_err(internal)?.map_err(internal)?;
                Ok(Finished::File(file))
            }
        }
    }
}

/// Writes the workbook at `path` from the pages received, row by row.
fn write_workbook(
    mut pages: tokio::sync::mpsc::Receiver<Vec<collection_record::Model>>,
    path: &std::path::Path,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatBorder, Workbook};
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_font_color(Color::White)
        .set_background_color(Color::RGB(0x2F5496))
        .set_border_bottom(FormatBorder::Thin);
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let sheet = book.add_worksheet_with_constant_memory();
    sheet.set_name("Records")?;
    sheet.set_freeze_panes(1, 0)?;
    for (i, (name, width)) in COLUMNS.iter().zip(WIDTHS).enumerate() {
        sheet.set_column_width(i as u16, *width)?;
        sheet.write_string_with_format(0, i as u16, *name, &header)?;
    }
    let mut row: u32 = 1;
    while let Some(page) = pages.blocking_recv() {
        for r in &page {
            for (col, cell) in cells(r).into_iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Text(s) if s.is_empty() => {}
                    Cell::Text(s) if s.chars().count() > XLSX_MAX_CHARS => {
                        sheet.write_string(row, col, s.chars().take(XLSX_MAX_CHARS).collect::<String>())?;
                    }
                    Cell::Text(s) => {
                        sheet.write_string(row, col, s)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(row, col, n as f64)?;
                    }
                    Cell::Date(Some(d)) => {
                        // Whole seconds, in UTC (Excel has no time zones).
                        let at = ExcelDateTime::from_timestamp(d.timestamp())?;
                        sheet.write_datetime_with_format(row, col, &at, &date)?;
                    }
                    Cell::Date(None) => {}
                }
            }
            row += 1;
        }
    }
    book.save(path)
}
