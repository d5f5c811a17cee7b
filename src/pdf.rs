//! A small document renderer to PDF (A4, the standard Helvetica fonts, no embedded files):
//! a title, lines of text, label–value pairs and tables, flowed over as many pages as they
//! need. Invoices use it; reports and exports can reuse it. Built on `pdf-writer`.
//!
//! Text is written in WinAnsi (Latin-1) encoding, the standard fonts' own: a character
//! outside it prints as `?`. Content streams are not compressed, so the text can be read
//! back from the bytes (the tests do): ASCII as `(…) Tj`, anything else as `<hex> Tj`.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// One block of a document.
#[derive(Clone, Debug)]
pub enum Block {
    Heading(String),
    Text(String),
    /// Label–value rows, e.g. "Invoice number: ZYG-2026-000001".
    Fields(Vec<(String, String)>),
    /// A table: its header and rows; the last column is right-aligned (amounts).
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        widths: Vec<f32>,
    },
    Space,
}

/// A document to render.
#[derive(Clone, Debug, Default)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Latin-1 bytes of `s` (others become `?`).
fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).collect()
}

/// Approximate Helvetica width of `s` at `size` (0.5 em per character; used only to
/// right-align amounts, which are digits and separators).
fn width(s: &str, size: f32) -> f32 {
    s.chars().count() as f32 * size * 0.556
}

struct Writer {
    pages: Vec<Content>,
    y: f32,
}

impl Writer {
    fn new() -> Self {
        Self { pages: vec![Content::new()], y: PAGE_H - MARGIN }
    }

    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a page")
    }

    /// Room for `h` more points on this page, else a new page.
    fn need(&mut self, h: f32) {
        if self.y - h < MARGIN {
            self.pages.push(Content::new());
            self.y = PAGE_H - MARGIN;
        }
    }

    fn text(&mut self, x: f32, font: Name<'static>, size: f32, s: &str) {
        let y = self.y;
        let bytes = latin1(s);
        let c = self.page();
        c.begin_text();
        c.set_font(font, size);
        c.next_line(x, y);
        c.show(Str(&bytes));
        c.end_text();
    }

    fn line(&mut self, size: f32, font: Name<'static>, s: &str) {
        self.need(size * 1.5);
        self.y -= size * 1.5;
        self.text(MARGIN, font, size, s);
    }
}

/// Renders `doc` to PDF bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    let mut w = Writer::new();
    w.line(18.0, BOLD, &doc.title);
    w.y -= 8.0;
    for block in &doc.blocks {
        match block {
            Block::Heading(h) => {
                w.y -= 6.0;
                w.line(12.0, BOLD, h);
            }
            Block::Text(t) => w.line(10.0, REGULAR, t),
            Block::Fields(rows) => {
                for (k, v) in rows {
                    w.need(15.0);
                    w.y -= 15.0;
                    w.text(MARGIN, BOLD, 10.0, k);
                    w.text(MARGIN + 140.0, REGULAR, 10.0, v);
                }
            }
            Block::Table { header, rows, widths } => {
                let row = |w: &mut Writer, cells: &[String], font: Name<'static>| {
                    w.need(16.0);
                    w.y -= 16.0;
                    let mut x = MARGIN;
                    for (i, cell) in cells.iter().enumerate() {
                        let col = widths.get(i).copied().unwrap_or(100.0);
                        if i + 1 == cells.len() {
                            w.text(x + col - width(cell, 10.0), font, 10.0, cell);
                        } else {
                            w.text(x, font, 10.0, cell);
                        }
                        x += col;
                    }
                };
                row(&mut w, header, BOLD);
                for r in rows {
                    row(&mut w, r, REGULAR);
                }
            }
            Block::Space => w.y -= 12.0,
        }
    }

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let mut next = 5;
    let mut page_ids = Vec::new();
    let mut content_ids = Vec::new();
    for _ in &w.pages {
        page_ids.push(Ref::new(next));
        content_ids.push(Ref::new(next + 1));
        next += 2;
    }
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(page_ids.len() as i32);
    for (i, _) in w.pages.iter().enumerate() {
        let mut page = pdf.page(page_ids[i]);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_ids[i]);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(REGULAR, regular);
        fonts.pair(BOLD, bold);
        fonts.finish();
        resources.finish();
    }
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (i, content) in w.pages.into_iter().enumerate() {
        pdf.stream(content_ids[i], &content.finish());
    }
    pdf.document_info(Ref::new(next)).title(pdf_writer::TextStr(&doc.title));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_renders_to_a_pdf_whose_text_can_be_read_back() {
        let mut blocks = vec![Block::Fields(vec![("Number".into(), "ZYG-2026-000001".into())])];
        for i in 0..80 {
            blocks.push(Block::Text(format!("Line {i} – café")));
        }
        let bytes = render(&Document { title: "Invoice".into(), blocks });
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("(ZYG-2026-000001) Tj"));
        assert!(text.contains("/Count 2"), "80 lines flow onto a second page");
        // Text outside ASCII is written as a hex string of its Latin-1 bytes ("–" has none: `?`).
        let hex: String = b"Line 79 ? caf\xe9".iter().map(|b| format!("{b:02X}")).collect();
        assert!(text.contains(&format!("<{hex}> Tj")), "Latin-1 kept, others replaced");
    }
}
