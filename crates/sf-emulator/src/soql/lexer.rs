//! SOQL tokens, each with its position for `ERROR at Row:R:Column:C`.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Date(String),
    DateTime(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Dot,
    Colon,
    Op(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    /// Byte offset in the query text.
    pub pos: usize,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct LexError {
    pub pos: usize,
    pub message: String,
}

pub fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let simple = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'{' => Some(Tok::LBrace),
            b'}' => Some(Tok::RBrace),
            b',' => Some(Tok::Comma),
            b'.' if !b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => Some(Tok::Dot),
            b':' => Some(Tok::Colon),
            b'=' => Some(Tok::Op("=")),
            _ => None,
        };
        if let Some(t) = simple {
            i += 1;
            out.push(Token {
                tok: t,
                pos: start,
                text: src[start..i].to_string(),
            });
            continue;
        }
        if c == b'!' || c == b'<' || c == b'>' {
            let two = src.get(i..i + 2).unwrap_or("");
            let (op, len) = match two {
                "!=" => ("!=", 2),
                "<>" => ("!=", 2),
                "<=" => ("<=", 2),
                ">=" => (">=", 2),
                _ if c == b'<' => ("<", 1),
                _ if c == b'>' => (">", 1),
                _ => {
                    return Err(LexError {
                        pos: i,
                        message: format!("unexpected token: '{}'", c as char),
                    });
                }
            };
            i += len;
            out.push(Token {
                tok: Tok::Op(op),
                pos: start,
                text: src[start..i].to_string(),
            });
            continue;
        }
        if c == b'\'' {
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&ch) = b.get(i) else {
                    return Err(LexError {
                        pos: start,
                        message: "unterminated string literal".into(),
                    });
                };
                if ch == b'\\' {
                    let esc = *b.get(i + 1).ok_or(LexError {
                        pos: i,
                        message: "bad escape".into(),
                    })?;
                    match esc {
                        b'n' => s.push('\n'),
                        b'r' => s.push('\r'),
                        b't' => s.push('\t'),
                        b'b' => s.push('\u{8}'),
                        b'f' => s.push('\u{c}'),
                        b'\'' | b'"' | b'\\' => s.push(esc as char),
                        // LIKE keeps these escapes for its own matching.
                        b'%' | b'_' => {
                            s.push('\\');
                            s.push(esc as char)
                        }
                        _ => {
                            return Err(LexError {
                                pos: i,
                                message: format!(
                                    "Invalid string literal '{}'. Illegal character sequence '\\{}' in string literal.",
                                    &src[start..],
                                    esc as char
                                ),
                            });
                        }
                    }
                    i += 2;
                    continue;
                }
                if ch == b'\'' {
                    i += 1;
                    break;
                }
                let ch_len = utf8_len(ch);
                s.push_str(&src[i..i + ch_len]);
                i += ch_len;
            }
            out.push(Token {
                tok: Tok::Str(s),
                pos: start,
                text: src[start..i].to_string(),
            });
            continue;
        }
        if c.is_ascii_digit()
            || ((c == b'-' || c == b'+' || c == b'.')
                && b.get(i + 1)
                    .is_some_and(|d| d.is_ascii_digit() || *d == b'.'))
        {
            // date / datetime literals start with 4 digits and a dash
            if c.is_ascii_digit()
                && b.len() >= i + 10
                && b[i + 4] == b'-'
                && b[i..i + 4].iter().all(u8::is_ascii_digit)
            {
                let mut j = i + 10;
                if b.get(j) == Some(&b'T') {
                    j += 1;
                    while j < b.len()
                        && (b[j].is_ascii_digit()
                            || matches!(b[j], b':' | b'.' | b'+' | b'-' | b'Z'))
                    {
                        j += 1;
                    }
                    out.push(Token {
                        tok: Tok::DateTime(src[i..j].to_string()),
                        pos: start,
                        text: src[i..j].to_string(),
                    });
                } else {
                    out.push(Token {
                        tok: Tok::Date(src[i..j].to_string()),
                        pos: start,
                        text: src[i..j].to_string(),
                    });
                }
                i = j;
                continue;
            }
            let mut j = i + 1;
            while j < b.len()
                && (b[j].is_ascii_digit() || b[j] == b'.' || b[j] == b'e' || b[j] == b'E')
            {
                j += 1;
            }
            let text = &src[i..j];
            let n: f64 = text.parse().map_err(|_| LexError {
                pos: i,
                message: format!("unexpected token: '{text}'"),
            })?;
            out.push(Token {
                tok: Tok::Num(n),
                pos: start,
                text: text.to_string(),
            });
            i = j;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            out.push(Token {
                tok: Tok::Ident(src[i..j].to_string()),
                pos: start,
                text: src[i..j].to_string(),
            });
            i = j;
            continue;
        }
        let ch_len = utf8_len(c);
        return Err(LexError {
            pos: i,
            message: format!("unexpected token: '{}'", &src[i..i + ch_len]),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: src.len(),
        text: "<EOF>".into(),
    });
    Ok(out)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}
