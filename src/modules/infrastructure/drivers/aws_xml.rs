//! The XML of AWS answers, read into a small tree ([`Node`]) with `quick-xml`: EC2's
//! `<xxxSet><item>` lists, Route 53's and the Query APIs' documents, and the error bodies of
//! each (EC2's `<Response><Errors><Error>`, the others' `<ErrorResponse><Error>`). Also the
//! escaping of text written into Route 53's request documents. Knows no operation.

use quick_xml::{Reader, events::Event};

/// An element: its local name (no namespace prefix), its text (trimmed) and its children.
#[derive(Clone, Debug, Default)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The element at `path` (child names separated by `/`).
    pub fn get(&self, path: &str) -> Option<&Node> {
        path.split('/').filter(|p| !p.is_empty()).try_fold(self, |n, p| n.child(p))
    }

    /// The text at `path`, when the element is there and not empty.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.get(path).map(|n| n.text.as_str()).filter(|t| !t.is_empty())
    }

    /// The children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The `<item>`s of the EC2 list at `path` (none when it is absent).
    pub fn items(&self, path: &str) -> Vec<&Node> {
        self.get(path).map(|n| n.all("item").collect()).unwrap_or_default()
    }

    /// The first element named `name` at any depth (depth first), this one included.
    pub fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

/// Reads `xml` into a tree: the document element.
pub fn parse(xml: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(xml);
    // The root holds the document element; the stack, the elements still open.
    let mut stack: Vec<Node> = vec![Node::default()];
    let local = |raw: &[u8]| {
        let name = String::from_utf8_lossy(raw);
        name.rsplit(':').next().unwrap_or_default().to_string()
    };
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => stack.push(Node { name: local(e.name().as_ref()), ..Default::default() }),
            Event::Empty(e) => {
                let n = Node { name: local(e.name().as_ref()), ..Default::default() };
                stack.last_mut().ok_or("unbalanced")?.children.push(n);
            }
            Event::End(_) => {
                let mut n = stack.pop().ok_or("unbalanced")?;
                n.text = n.text.trim().to_string();
                stack.last_mut().ok_or("unbalanced")?.children.push(n);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| e.to_string())?;
                stack.last_mut().ok_or("unbalanced")?.text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| e.to_string())?;
                stack.last_mut().ok_or("unbalanced")?.text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_string()
                    }
                };
                stack.last_mut().ok_or("unbalanced")?.text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let root = stack.pop().filter(|_| stack.is_empty()).ok_or("unclosed elements")?;
    root.children.into_iter().next().ok_or_else(|| "no document element".to_string())
}

/// `s` escaped for XML text.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The code and message of an AWS error document, when `body` is one.
pub fn error_of(body: &str) -> Option<(String, String)> {
    let doc = parse(body).ok()?;
    let e = doc.find("Error")?;
    let code = e.text("Code")?.to_string();
    Some((code, e.text("Message").unwrap_or_default().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_lists_and_entities_are_read() {
        let doc = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
              <reservationSet><item><instancesSet>
                <item><instanceId>i-1</instanceId><tagSet>
                  <item><key>Name</key><value>a &amp; b &#x41;</value></item></tagSet></item>
                <item><instanceId>i-2</instanceId><tagSet/></item>
              </instancesSet></item></reservationSet>
            </DescribeInstancesResponse>"#,
        )
        .unwrap();
        assert_eq!(doc.name, "DescribeInstancesResponse");
        let instances = doc.items("reservationSet")[0].items("instancesSet");
        assert_eq!(instances.len(), 2);
        assert_eq!(instances[0].items("tagSet")[0].text("value"), Some("a & b A"));
        assert_eq!(instances[1].text("instanceId"), Some("i-2"));
        assert!(instances[1].items("tagSet").is_empty());
    }

    #[test]
    fn error_documents_of_each_api_give_code_and_message() {
        let ec2 = "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>\
                   <Message>nope</Message></Error></Errors><RequestID>x</RequestID></Response>";
        assert_eq!(error_of(ec2), Some(("InvalidInstanceID.NotFound".into(), "nope".into())));
        let r53 = r#"<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error>
                     <Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>z</Message></Error></ErrorResponse>"#;
        assert_eq!(error_of(r53), Some(("NoSuchHostedZone".into(), "z".into())));
        assert_eq!(error_of("<html>500</html>"), None);
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
