//! The mails Zygo sends, each as plain text and HTML alternatives of one message.
//!
//! Every template ends with a call to action (a link into the app) and, where a token is
//! involved, the GraphQL mutation that does the same, so the flows also work from GraphiQL.

use chrono::{DateTime, Utc};

/// A rendered mail, ready for [`super::enqueue`].
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachment: Option<Attachment>,
}

/// A file sent with a mail.
pub struct Attachment {
    pub name: String,
    /// Media type, e.g. `application/pdf`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The parts every mail is made of.
struct Layout<'a> {
    subject: String,
    greeting: String,
    paragraphs: Vec<String>,
    action: Option<(&'a str, &'a str)>,
    /// A GraphQL mutation doing what the link does.
    mutation: Option<String>,
    footer: String,
}

impl Layout<'_> {
    fn render(self) -> Mail {
        let mut text = format!("{}\n\n", self.greeting);
        for p in &self.paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
        }
        if let Some((label, link)) = self.action {
            text.push_str(&format!("{label}:\n\n{link}\n\n"));
        }
        if let Some(m) = &self.mutation {
            text.push_str(&format!("Or run this mutation, for example in GraphiQL:\n\n{m}\n\n"));
        }
        text.push_str(&self.footer);
        text.push('\n');

        let mut html = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
             <body style=\"font-family:system-ui,sans-serif;color:#1f2933;max-width:560px;margin:24px auto\">\n\
             <p>{greeting}</p>\n",
            title = esc(&self.subject),
            greeting = esc(&self.greeting),
        );
        for p in &self.paragraphs {
            html.push_str(&format!("<p>{}</p>\n", esc(p)));
        }
        if let Some((label, link)) = self.action {
            html.push_str(&format!(
                "<p><a href=\"{href}\" style=\"display:inline-block;padding:10px 18px;background:#4f46e5;\
                 color:#fff;border-radius:6px;text-decoration:none\">{label}</a></p>\n\
                 <p style=\"font-size:12px;color:#52606d\">{link}</p>\n",
                href = esc(link),
                label = esc(label),
                link = esc(link),
            ));
        }
        if let Some(m) = &self.mutation {
            html.push_str(&format!(
                "<p style=\"font-size:12px;color:#52606d\">Or run this mutation:</p>\n<pre>{}</pre>\n",
                esc(m)
            ));
        }
        html.push_str(&format!(
            "<p style=\"font-size:12px;color:#52606d\">{}</p>\n</body></html>\n",
            esc(&self.footer)
        ));
        Mail { subject: self.subject, text, html, attachment: None }
    }
}

/// An organisation's owners: a limit of the plan is `percent` % used.
pub fn usage_threshold(org: &str, what: &str, used: i64, allowed: i64, percent: i64, link: &str) -> Mail {
    Layout {
        subject: format!("{org} has used {percent} % of its {what}"),
        greeting: "Hello,".into(),
        paragraphs: vec![
            format!("{org} now uses {used} of the {allowed} {what} its plan allows."),
            if percent >= 100 {
                "Further use is refused until the period resets or the plan changes.".into()
            } else {
                "When the allowance is used up, further use is refused until the period resets or the plan changes."
                    .into()
            },
        ],
        action: Some(("See usage and plans", link)),
        mutation: None,
        footer: "You receive this as an owner of the organisation.".into(),
    }
    .render()
}

/// An organisation's owners: a webhook endpoint was switched off after repeated failures.
pub fn webhook_disabled(org: &str, url: &str, failures: i32, link: &str) -> Mail {
    Layout {
        subject: format!("A webhook endpoint of {org} was disabled"),
        greeting: "Hello,".into(),
        paragraphs: vec![
            format!("Zygo stopped sending events to {url}: its last {failures} deliveries failed after every retry."),
            "Fix the receiver, then enable the endpoint again; the delivery log shows what it answered.".into(),
        ],
        action: Some(("Open webhook settings", link)),
        mutation: Some("mutation { updateWebhookEndpoint(input: { endpointId: \"…\", enabled: true }) { endpoint { enabled } } }".into()),
        footer: "You receive this as an owner of the organisation.".into(),
    }
    .render()
}

/// An organisation's owners: an invoice was issued (its PDF attached).
pub fn invoice_issued(
    org: &str,
    number: &str,
    total: &str,
    due: &str,
    paid: bool,
    link: &str,
    pdf: Vec<u8>,
) -> Mail {
    let mut mail = Layout {
        subject: format!("Invoice {number} for {org}"),
        greeting: "Hello,".into(),
        paragraphs: vec![
            format!("invoice {number} for {org} totals {total}."),
            if paid { "It is paid: nothing to do.".into() } else { format!("It is due on {due}.") },
            "The invoice is attached as a PDF.".into(),
        ],
        action: Some(("See billing", link)),
        mutation: None,
        footer: "You receive this as an owner of the organisation.".into(),
    }
    .render();
    mail.attachment = Some(Attachment {
        name: format!("{number}.pdf"),
        content_type: "application/pdf".into(),
        bytes: pdf,
    });
    mail
}

pub fn verification(name: &str, link: &str, token: &str, ttl_hours: i64) -> Mail {
    Layout {
        subject: "Confirm your e-mail address for Zygo".into(),
        greeting: format!("Hello {name},"),
        paragraphs: vec!["please confirm your e-mail address for Zygo.".into()],
        action: Some(("Confirm your address", link)),
        mutation: Some(format!(
            "  mutation {{\n    verifyEmail(token: \"{token}\") {{ user {{ email emailVerified }} }}\n  }}"
        )),
        footer: format!("The link is valid for {ttl_hours} hours. If you did not sign up, ignore this mail."),
    }
    .render()
}

pub fn invitation(tenant: &str, role: &str, link: &str, token: &str, ttl_days: i64) -> Mail {
    Layout {
        subject: format!("You are invited to {tenant} on Zygo"),
        greeting: "Hello,".into(),
        paragraphs: vec![
            format!("you are invited to join {tenant} on Zygo as {role}."),
            "Sign up first with this e-mail address if you have no account.".into(),
        ],
        action: Some(("Accept the invitation", link)),
        mutation: Some(format!(
            "  mutation {{\n    acceptInvitation(token: \"{token}\") {{ membership {{ id }} }}\n  }}"
        )),
        footer: format!("The invitation is valid for {ttl_days} days."),
    }
    .render()
}

pub fn password_reset(name: &str, link: &str, token: &str, ttl_minutes: i64) -> Mail {
    Layout {
        subject: "Reset your Zygo password".into(),
        greeting: format!("Hello {name},"),
        paragraphs: vec!["someone asked to reset the password of your Zygo account.".into()],
        action: Some(("Choose a new password", link)),
        mutation: Some(format!(
            "  mutation {{\n    resetPassword(token: \"{token}\", newPassword: \"...\") {{ success }}\n  }}"
        )),
        footer: format!(
            "The link is valid for {ttl_minutes} minutes. If it was not you, ignore this mail; \
             your password stays as it is."
        ),
    }
    .render()
}

pub fn account_unlock(name: &str, link: &str, token: &str, locked_until: DateTime<Utc>) -> Mail {
    Layout {
        subject: "Your Zygo account was locked".into(),
        greeting: format!("Hello {name},"),
        paragraphs: vec![
            "there were too many failed attempts to sign in to your Zygo account, so we locked it \
             for a while."
                .into(),
            format!("It unlocks by itself at {} UTC.", locked_until.format("%Y-%m-%d %H:%M")),
            "If it was you, unlock it now with the link below. If it was not you, someone may know \
             your e-mail address: consider turning on two-factor authentication."
                .into(),
        ],
        action: Some(("Unlock my account", link)),
        mutation: Some(format!("  mutation {{\n    unlockAccount(token: \"{token}\") {{ success }}\n  }}")),
        footer: "The unlock link works once and is valid for 24 hours.".into(),
    }
    .render()
}

pub fn sign_in_alert(
    name: &str,
    at: DateTime<Utc>,
    ip: Option<&str>,
    device: &str,
    sessions_link: &str,
) -> Mail {
    Layout {
        subject: "New sign-in to your Zygo account".into(),
        greeting: format!("Hello {name},"),
        paragraphs: vec![
            format!(
                "your account was signed in to from a new device on {} UTC.",
                at.format("%Y-%m-%d %H:%M")
            ),
            format!("Device: {device}. IP address: {}.", ip.unwrap_or("unknown")),
            "If this was you, there is nothing to do. If not, end that session and change your password."
                .into(),
        ],
        action: Some(("Review your sessions", sessions_link)),
        mutation: None,
        footer: "You get this mail whenever a device signs in for the first time.".into(),
    }
    .render()
}

/// To the owner of an address someone tried to sign up with: `signUp` answers such an
/// attempt exactly as a new sign-up, so only the address's owner learns of it.
pub fn sign_up_attempt(name: &str, login_link: &str, reset_link: &str) -> Mail {
    Layout {
        subject: "Someone tried to sign up to Zygo with your address".into(),
        greeting: format!("Hello {name},"),
        paragraphs: vec![
            "someone just tried to create a Zygo account with this e-mail address, which already has one. \
             No new account was created and nothing about yours changed."
                .into(),
            format!("If it was you, sign in instead. Forgot your password? Reset it here: {reset_link}"),
            "If it was not you, there is nothing to do.".into(),
        ],
        action: Some(("Sign in", login_link)),
        mutation: None,
        footer: "You get this mail whenever a sign-up names your address.".into(),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_keeps_the_link() {
        let m = invitation("<Acme & Co>", "Admin", "https://x.test/a?token=t&x=1", "t", 7);
        assert!(m.html.contains("&lt;Acme &amp; Co&gt;"));
        assert!(!m.html.contains("<Acme"));
        assert!(m.html.contains("href=\"https://x.test/a?token=t&amp;x=1\""));
        assert!(m.text.contains("https://x.test/a?token=t&x=1"));
        assert_eq!(m.subject, "You are invited to <Acme & Co> on Zygo");
    }
}

/// The person who asked: their data export is ready to download.
pub fn data_export_ready(name: &str, link: &str, days: i64) -> Mail {
    Layout {
        subject: "Your Zygo data export is ready".into(),
        greeting: format!("Hello {name},"),
        paragraphs: vec![
            "the data export you asked for is ready: a ZIP of JSON files, one per kind of record.".into(),
        ],
        action: Some(("Download the export", link)),
        mutation: None,
        footer: format!(
            "The link works for {days} days. If you did not ask for an export, change your password."
        ),
    }
    .render()
}

/// The person who asked: their account will be deleted on `on` unless they cancel.
pub fn account_deletion_scheduled(name: &str, on: DateTime<Utc>, link: &str) -> Mail {
    Layout {
        subject: "Your Zygo account will be deleted".into(),
        greeting: format!("Hello {name},"),
        paragraphs: vec![
            format!(
                "your account is scheduled for deletion on {}. Until then you can sign in and cancel it.",
                on.format("%-d %B %Y")
            ),
            "On that day your personal data is deleted or anonymised; this cannot be undone.".into(),
        ],
        action: Some(("Keep my account", link)),
        mutation: Some("  mutation {\n    cancelAccountDeletion { scheduledAt }\n  }".into()),
        footer: "If you did not ask for this, sign in, cancel it and change your password.".into(),
    }
    .render()
}
