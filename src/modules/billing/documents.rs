//! Invoice PDFs and their short-lived signed download links. A link names the invoice and
//! its expiry and is signed with a key derived from the master key; whoever holds a valid
//! link gets that one PDF (it is handed only to holders of `billing.read`, and to the mail).

use chrono::{DateTime, Utc};
use entity::{billing_account, invoice, tenant};
use uuid::Uuid;

use super::invoices::Line;
use crate::{
    ctx::Ctx,
    pdf::{Block, Document, render},
};

/// How long a download link works.
pub const LINK_TTL_SECS: i64 = 15 * 60;

const PURPOSE: &str = "invoice-pdf";

/// Digits after the decimal point of `currency` (ISO 4217 minor units).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// `amount` minor units of `currency` as a decimal, e.g. `29.00` (what PayPal's API takes).
pub fn decimal(amount: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let sign = if amount < 0 { "-" } else { "" };
    let a = amount.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{a}");
    }
    let unit = 10u64.pow(digits);
    format!("{sign}{}.{:0width$}", a / unit, a % unit, width = digits as usize)
}

/// `amount` minor units of `currency` as text, e.g. `29.00 EUR`.
pub fn money(amount: i64, currency: &str) -> String {
    format!("{} {currency}", decimal(amount, currency))
}

/// The path and query of a download link of invoice `id` valid until `now` + the TTL.
pub fn link(ctx: &Ctx, id: Uuid, now: DateTime<Utc>) -> String {
    let expires = now.timestamp() + LINK_TTL_SECS;
    let sig = ctx.keys.sign(PURPOSE, &format!("{id}:{expires}"));
    format!("{}/billing/invoices/{id}/pdf?expires={expires}&sig={sig}", ctx.config.public_url)
}

/// Whether a link's `expires` and `sig` are valid for invoice `id` at `now`.
pub fn link_valid(ctx: &Ctx, id: Uuid, expires: i64, sig: &str, now: DateTime<Utc>) -> bool {
    expires >= now.timestamp() && ctx.keys.verify(PURPOSE, &format!("{id}:{expires}"), sig)
}

/// Who issues the invoices.
pub const ISSUER: &str = "Zygo";

/// The invoice as a PDF.
pub fn invoice_pdf(inv: &invoice::Model, org: &tenant::Model, account: &billing_account::Model) -> Vec<u8> {
    let c = inv.currency.as_str();
    let lines: Vec<Line> = serde_json::from_str(&inv.lines).unwrap_or_default();
    let address: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&account.billing_address).unwrap_or_default();
    let mut billed_to = vec![("Billed to".to_string(), org.name.clone())];
    for key in ["name", "line1", "line2", "postalCode", "city", "region", "country"] {
        if let Some(v) = address.get(key).and_then(|v| v.as_str()).filter(|v| !v.is_empty()) {
            billed_to.push((String::new(), v.to_string()));
        }
    }
    if let Some(tax_id) = &account.tax_id {
        billed_to.push(("Tax ID".into(), tax_id.clone()));
    }
    let status = serde_json::to_value(inv.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![l.description.clone(), l.quantity.to_string(), money(l.unit_amount, c), money(l.amount, c)]
        })
        .collect();
    let rate = if inv.subtotal > 0 {
        format!(" ({:.2} %)", account.tax_rate_bps as f64 / 100.0)
    } else {
        String::new()
    };
    for (label, amount) in [
        ("Subtotal".to_string(), inv.subtotal),
        (format!("Tax{rate}"), inv.tax),
        ("Total".to_string(), inv.total),
        ("Credit applied".to_string(), -inv.credit_applied),
        ("Amount due".to_string(), inv.amount_due),
    ] {
        rows.push(vec![label, String::new(), String::new(), money(amount, c)]);
    }
    let doc = Document {
        title: format!("Invoice {}", inv.number),
        blocks: vec![
            Block::Fields(vec![
                ("Issuer".into(), ISSUER.to_string()),
                ("Invoice number".into(), inv.number.clone()),
                ("Status".into(), status),
                ("Issued".into(), inv.issued_at.format("%Y-%m-%d").to_string()),
                ("Due".into(), inv.due_at.format("%Y-%m-%d").to_string()),
                (
                    "Period".into(),
                    format!(
                        "{} to {}",
                        inv.period_start.format("%Y-%m-%d"),
                        inv.period_end.format("%Y-%m-%d")
                    ),
                ),
            ]),
            Block::Space,
            Block::Fields(billed_to),
            Block::Space,
            Block::Table {
                header: vec!["Description".into(), "Qty".into(), "Unit price".into(), "Amount".into()],
                rows,
                widths: vec![260.0, 40.0, 90.0, 93.0],
            },
        ],
    };
    render(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_uses_the_currencys_minor_digits() {
        assert_eq!(money(2900, "EUR"), "29.00 EUR");
        assert_eq!(money(-1450, "EUR"), "-14.50 EUR");
        assert_eq!(money(5, "USD"), "0.05 USD");
        assert_eq!(money(500, "JPY"), "500 JPY");
        assert_eq!(money(1234, "KWD"), "1.234 KWD");
    }
}
