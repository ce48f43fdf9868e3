//! OpenAI message content → SCRI content: a string, or an array of typed parts (`text`,
//! `image_url`, `refusal`, `input_audio`, `file`). Which parts a message may carry depends
//! on its role, as in OpenAI's API; `data:` image URLs become inline base64 images so every
//! adapter can send them, whatever its provider accepts.

use serde_json::Value;

use crate::dialects::RequestError;
use crate::dialects::json::{Obj, type_error};
use crate::scri::{Content, ContentBlock, Image, ImageSource};

/// Which content parts a role accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parts {
    /// `system` and `developer`: text only.
    Text,
    /// `user` and `tool`: text and images.
    TextAndImages,
    /// `assistant`: text and refusals.
    TextAndRefusals,
}

const CONTENT_TYPES: &str = "a string or an array of content parts";

/// A message's `content` (string or parts) as SCRI content.
pub(crate) fn content(value: &Value, path: &str, parts: Parts) -> Result<Content, RequestError> {
    match value {
        Value::String(text) => Ok(Content::Text(text.clone())),
        Value::Array(items) => Ok(Content::Blocks(blocks(items, path, parts)?)),
        other => Err(type_error(path, CONTENT_TYPES, other)),
    }
}

/// An array of content parts at `path` as SCRI blocks, in order.
pub(crate) fn blocks(
    items: &[Value],
    path: &str,
    parts: Parts,
) -> Result<Vec<ContentBlock>, RequestError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| part(&Obj::new(item, format!("{path}[{i}]"))?, parts))
        .collect()
}

fn part(part: &Obj, parts: Parts) -> Result<ContentBlock, RequestError> {
    let kind = part.req_str("type")?;
    let allowed = match kind {
        "text" => true,
        "image_url" => parts == Parts::TextAndImages,
        "refusal" => parts == Parts::TextAndRefusals,
        "input_audio" | "file" => {
            return Err(RequestError::Unsupported {
                param: part.path.clone(),
                reason: format!(
                    "`{kind}` content parts are not supported; Aratta carries text and images"
                ),
            });
        }
        other => {
            return Err(RequestError::Invalid {
                param: part.field("type"),
                reason: format!(
                    "unknown content part type `{other}`; expected `text`, `image_url` or `refusal`"
                ),
            });
        }
    };
    if !allowed {
        let accepted = match parts {
            Parts::Text => "`text`",
            Parts::TextAndImages => "`text` and `image_url`",
            Parts::TextAndRefusals => "`text` and `refusal`",
        };
        return Err(RequestError::Invalid {
            param: part.field("type"),
            reason: format!("`{kind}` parts are not allowed in this message; it takes {accepted}"),
        });
    }
    Ok(match kind {
        "text" => ContentBlock::Text {
            text: part.req_str("text")?.to_owned(),
        },
        "refusal" => ContentBlock::Text {
            text: part.req_str("refusal")?.to_owned(),
        },
        _ => ContentBlock::Image(image(part)?),
    })
}

/// An `image_url` part's image. `image_url` is `{url, detail}`; a bare URL string is also
/// accepted, as several OpenAI-compatible servers do.
fn image(part: &Obj) -> Result<Image, RequestError> {
    let (url, detail) = match part.require("image_url")? {
        Value::String(url) => (url.as_str(), None),
        value => {
            let inner = Obj::new(value, part.field("image_url"))?;
            (inner.req_str("url")?, inner.str("detail")?)
        }
    };
    Ok(Image {
        source: image_source(url),
        detail: detail.map(str::to_owned),
    })
}

/// A `data:<media type>;base64,<data>` URL as inline bytes; any other URL (including a
/// `data:` URL that is not base64) stays a URL for the provider to fetch.
pub(crate) fn image_source(url: &str) -> ImageSource {
    let inline = url.strip_prefix("data:").and_then(|rest| {
        let (header, data) = rest.split_once(',')?;
        let header = header.strip_suffix(";base64")?;
        let media_type = header.split(';').next().unwrap_or_default().trim();
        (!media_type.is_empty()).then(|| ImageSource::Base64 {
            media_type: media_type.to_owned(),
            data: data.to_owned(),
        })
    });
    inline.unwrap_or_else(|| ImageSource::Url {
        url: url.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_urls_become_base64_images() {
        let ImageSource::Base64 { media_type, data } =
            image_source("data:image/jpeg;base64,/9j/4AAQSkZJRg==")
        else {
            panic!("expected inline bytes")
        };
        assert_eq!(
            (media_type.as_str(), data.as_str()),
            ("image/jpeg", "/9j/4AAQSkZJRg==")
        );
        assert!(matches!(
            image_source("data:image/png;name=x.png;base64,iVBO"),
            ImageSource::Base64 { ref media_type, .. } if media_type == "image/png"
        ));
        for url in [
            "https://example.com/a.png",
            "data:text/plain,hello",
            "data:;base64,AAAA",
        ] {
            assert!(matches!(image_source(url), ImageSource::Url { url: ref u } if u == url));
        }
    }

    #[test]
    fn user_parts_keep_order_and_detail() {
        let parts = json!([
            {"type": "text", "text": "What's in this image?"},
            {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/a.jpg", "detail": "low"}}
        ]);
        let Content::Blocks(blocks) =
            content(&parts, "messages[0].content", Parts::TextAndImages).unwrap()
        else {
            panic!("expected blocks")
        };
        assert!(
            matches!(&blocks[0], ContentBlock::Text { text } if text == "What's in this image?")
        );
        let ContentBlock::Image(img) = &blocks[1] else {
            panic!("expected an image")
        };
        assert_eq!(img.detail.as_deref(), Some("low"));
    }

    #[test]
    fn audio_and_file_parts_are_refused_by_name() {
        let parts = json!([{"type": "text", "text": "hi"},
                           {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}}]);
        let err = content(&parts, "messages[0].content", Parts::TextAndImages).unwrap_err();
        assert_eq!(err.param(), Some("messages[0].content[1]"));
        assert!(err.to_string().contains("`input_audio`"), "{err}");
        let parts = json!([{"type": "file", "file": {"file_id": "file-abc"}}]);
        let err = content(&parts, "messages[0].content", Parts::TextAndImages).unwrap_err();
        assert!(err.to_string().contains("`file`"), "{err}");
    }

    #[test]
    fn images_are_refused_in_system_messages_and_numbers_everywhere() {
        let parts = json!([{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]);
        let err = content(&parts, "messages[0].content", Parts::Text).unwrap_err();
        assert_eq!(err.param(), Some("messages[0].content[0].type"));
        let err = content(&json!(7), "messages[2].content", Parts::Text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "messages[2].content: expected a string or an array of content parts, got a number"
        );
    }
}
