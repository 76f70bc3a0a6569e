//! `Link: <url>; rel="next"` header parsing (RFC 8288), as registries announce catalog, tag-list
//! and referrers pages.

/// The target of the `rel="next"` link among the given header values, if any.
pub fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    for value in values {
        for part in split_links(value) {
            let part = part.trim();
            let Some(rest) = part.strip_prefix('<') else {
                continue;
            };
            let Some((target, params)) = rest.split_once('>') else {
                continue;
            };
            let is_next = params.split(';').any(|p| {
                let p = p.trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim().trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return Some(target.to_string());
            }
        }
    }
    None
}

/// Split a Link header on the commas between link-values (not those inside `<...>` or quotes).
fn split_links(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_url, mut in_quotes, mut start) = (false, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '<' if !in_quotes => in_url = true,
            '>' if !in_quotes => in_url = false,
            '"' if !in_url => in_quotes = !in_quotes,
            ',' if !in_url && !in_quotes => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn finds_next_among_links() {
        assert_eq!(next_link(["</v2/_catalog?last=b&n=2>; rel=\"next\""]).as_deref(), Some("/v2/_catalog?last=b&n=2"));
        assert_eq!(
            next_link(["<https://x/a?b=1,2>; rel=\"prev\", </v2/t?last=z>; rel=next"]).as_deref(),
            Some("/v2/t?last=z")
        );
        assert_eq!(next_link(["</v2/x>; rel=\"prev\""]), None);
        assert_eq!(next_link(["garbage"]), None);
    }
}
