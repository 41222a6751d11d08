//! A recursive-descent parser for the SOQL subset integration tools send.

use super::SoqlError;
use super::ast::*;
use super::lexer::{Tok, Token, lex};

pub const DATE_LITERALS: &[&str] = &[
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "NEXT_QUARTER",
];
pub const DATE_LITERALS_N: &[&str] = &[
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
];

const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "IN", "ORDER", "BY", "LIMIT", "OFFSET",
    "ASC", "DESC", "NULLS", "FIRST", "LAST", "NULL", "TRUE", "FALSE", "INCLUDES", "EXCLUDES",
    "GROUP", "HAVING", "WITH",
];

/// Salesforce's longest SOQL statement.
pub const MAX_LENGTH: usize = 100_000;
/// How deep `NOT` and parentheses may nest in a WHERE clause.
pub const MAX_NESTING: usize = 64;

struct Parser<'a> {
    toks: Vec<Token>,
    i: usize,
    src: &'a str,
    depth: usize,
}

pub fn parse(src: &str) -> Result<Query, SoqlError> {
    if src.len() > MAX_LENGTH {
        return Err(SoqlError {
            code: "MALFORMED_QUERY",
            message: format!(
                "Query is too long: SOQL statements cannot be longer than {MAX_LENGTH} characters"
            ),
        });
    }
    let toks = lex(src).map_err(|e| SoqlError::malformed(src, e.pos, e.message))?;
    let mut p = Parser {
        toks,
        i: 0,
        src,
        depth: 0,
    };
    let q = p.query()?;
    Ok(q)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Token {
        &self.toks[self.i]
    }
    fn next(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }
    fn unexpected(&self) -> SoqlError {
        let t = self.peek();
        SoqlError::malformed(self.src, t.pos, format!("unexpected token: '{}'", t.text))
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
    fn is_kw_at(&self, offset: usize, kw: &str) -> bool {
        matches!(self.toks.get(self.i + offset).map(|t| &t.tok), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }
    fn expect(&mut self, want: Tok) -> Result<Token, SoqlError> {
        if self.peek().tok == want {
            Ok(self.next())
        } else {
            Err(self.unexpected())
        }
    }

    fn ident(&mut self) -> Result<(String, usize), SoqlError> {
        match &self.peek().tok {
            Tok::Ident(s) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) => {
                let t = self.next();
                Ok((s_of(&t), t.pos))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn path(&mut self) -> Result<Path, SoqlError> {
        let (first, pos) = self.ident()?;
        let mut parts = vec![first];
        while self.peek().tok == Tok::Dot {
            self.next();
            parts.push(self.ident()?.0);
        }
        Ok(Path { parts, pos })
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let mut select = vec![];
        loop {
            if self.is_kw("COUNT")
                && self.toks.get(self.i + 1).map(|t| &t.tok) == Some(&Tok::LParen)
            {
                self.next();
                self.next();
                if self.peek().tok == Tok::RParen {
                    self.next();
                    select.push(SelectItem::CountAll);
                } else {
                    let p = self.path()?;
                    self.expect(Tok::RParen)?;
                    let alias = if matches!(&self.peek().tok, Tok::Ident(s) if !s.eq_ignore_ascii_case("FROM"))
                    {
                        Some(self.ident()?.0)
                    } else {
                        None
                    };
                    select.push(SelectItem::Count(p, alias));
                }
            } else if self.peek().tok == Tok::LParen {
                return Err(SoqlError::malformed(
                    self.src,
                    self.peek().pos,
                    "Sync Studio's emulator does not support subqueries",
                ));
            } else {
                select.push(SelectItem::Field(self.path()?));
            }
            if self.peek().tok == Tok::Comma {
                self.next();
            } else {
                break;
            }
        }
        self.expect_kw("FROM")?;
        let (from, from_pos) = self.ident()?;
        // optional alias: an identifier that is not a clause keyword
        if matches!(&self.peek().tok, Tok::Ident(s) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)))
        {
            return Err(self.unexpected());
        }
        let where_ = if self.eat_kw("WHERE") {
            Some(self.or_cond()?)
        } else {
            None
        };
        let mut order_by = vec![];
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let path = self.path()?;
                let desc = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                let nulls_last = if self.eat_kw("NULLS") {
                    if self.eat_kw("LAST") {
                        Some(true)
                    } else {
                        self.expect_kw("FIRST")?;
                        Some(false)
                    }
                } else {
                    None
                };
                order_by.push(OrderItem {
                    path,
                    desc,
                    nulls_last,
                });
                if self.peek().tok == Tok::Comma {
                    self.next();
                } else {
                    break;
                }
            }
        }
        let mut limit = None;
        let mut offset = None;
        for _ in 0..2 {
            if self.eat_kw("LIMIT") {
                limit = Some(self.count_value()?);
            } else if self.eat_kw("OFFSET") {
                offset = Some(self.count_value()?);
            }
        }
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            select,
            from,
            from_pos,
            where_,
            order_by,
            limit,
            offset,
        })
    }

    fn count_value(&mut self) -> Result<u64, SoqlError> {
        match self.peek().tok {
            Tok::Num(n) if n >= 0.0 && n.fract() == 0.0 => {
                self.next();
                Ok(n as u64)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn or_cond(&mut self) -> Result<Cond, SoqlError> {
        let first = self.and_cond()?;
        if !self.is_kw("OR") {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.eat_kw("OR") {
            all.push(self.and_cond()?);
        }
        Ok(Cond::Or(all))
    }

    fn and_cond(&mut self) -> Result<Cond, SoqlError> {
        let first = self.not_cond()?;
        if !self.is_kw("AND") {
            return Ok(first);
        }
        let mut all = vec![first];
        while self.eat_kw("AND") {
            all.push(self.not_cond()?);
        }
        Ok(Cond::And(all))
    }

    /// `NOT` and parentheses are the only nesting; each level is counted,
    /// so no query can run the parser (or the evaluator, or dropping the
    /// tree) out of stack.
    fn not_cond(&mut self) -> Result<Cond, SoqlError> {
        let nested = self.is_kw("NOT") || self.peek().tok == Tok::LParen;
        if !nested {
            return self.comparison();
        }
        if self.depth >= MAX_NESTING {
            return Err(SoqlError::at(
                "QUERY_TOO_COMPLICATED",
                self.src,
                self.peek().pos,
                format!(
                    "Query is too complicated: conditions nest more than {MAX_NESTING} levels deep"
                ),
            ));
        }
        self.depth += 1;
        let c = if self.eat_kw("NOT") {
            self.not_cond().map(|c| Cond::Not(Box::new(c)))
        } else {
            self.next();
            self.or_cond()
                .and_then(|c| self.expect(Tok::RParen).map(|_| c))
        };
        self.depth -= 1;
        c
    }

    fn comparison(&mut self) -> Result<Cond, SoqlError> {
        let path = self.path()?;
        if let Tok::Op(op) = self.peek().tok {
            self.next();
            let value_pos = self.peek().pos;
            let value = self.literal()?;
            return Ok(Cond::Cmp {
                path,
                op,
                value,
                value_pos,
            });
        }
        if self.eat_kw("LIKE") {
            let t = self.next();
            return match t.tok {
                Tok::Str(s) => Ok(Cond::Like { path, pattern: s }),
                _ => Err(SoqlError::malformed(
                    self.src,
                    t.pos,
                    format!("unexpected token: '{}'", t.text),
                )),
            };
        }
        let negated = self.is_kw("NOT") && (self.is_kw_at(1, "IN") || self.is_kw_at(1, "LIKE"));
        if negated {
            self.next();
            if self.eat_kw("LIKE") {
                let t = self.next();
                return match t.tok {
                    Tok::Str(s) => Ok(Cond::Not(Box::new(Cond::Like { path, pattern: s }))),
                    _ => Err(SoqlError::malformed(
                        self.src,
                        t.pos,
                        format!("unexpected token: '{}'", t.text),
                    )),
                };
            }
        }
        if self.eat_kw("IN") {
            self.expect(Tok::LParen)?;
            if self.is_kw("SELECT") {
                return Err(SoqlError::malformed(
                    self.src,
                    self.peek().pos,
                    "Sync Studio's emulator does not support semi-join subqueries",
                ));
            }
            let value_pos = self.peek().pos;
            let mut values = vec![self.literal()?];
            while self.peek().tok == Tok::Comma {
                self.next();
                values.push(self.literal()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Cond::In {
                path,
                negated,
                values,
                value_pos,
            });
        }
        let inc = if self.eat_kw("INCLUDES") {
            Some(false)
        } else if self.eat_kw("EXCLUDES") {
            Some(true)
        } else {
            None
        };
        if let Some(negated) = inc {
            self.expect(Tok::LParen)?;
            let mut values = vec![];
            loop {
                let t = self.next();
                match t.tok {
                    Tok::Str(s) => values.push(s),
                    _ => {
                        return Err(SoqlError::malformed(
                            self.src,
                            t.pos,
                            format!("unexpected token: '{}'", t.text),
                        ));
                    }
                }
                if self.peek().tok == Tok::Comma {
                    self.next();
                } else {
                    break;
                }
            }
            self.expect(Tok::RParen)?;
            return Ok(Cond::Includes {
                path,
                negated,
                values,
            });
        }
        Err(self.unexpected())
    }

    fn literal(&mut self) -> Result<Literal, SoqlError> {
        let t = self.next();
        Ok(match &t.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Num(n) => Literal::Num(*n),
            Tok::Date(d) => Literal::Date(d.clone()),
            Tok::DateTime(d) => Literal::DateTime(d.clone()),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Ident(s) if DATE_LITERALS.iter().any(|d| d.eq_ignore_ascii_case(s)) => {
                Literal::DateLiteral(s.to_ascii_uppercase(), None)
            }
            Tok::Ident(s) if DATE_LITERALS_N.iter().any(|d| d.eq_ignore_ascii_case(s)) => {
                self.expect(Tok::Colon)?;
                let n = self.count_value()?;
                Literal::DateLiteral(s.to_ascii_uppercase(), Some(n as i64))
            }
            _ => {
                return Err(SoqlError::malformed(
                    self.src,
                    t.pos,
                    format!("unexpected token: '{}'", t.text),
                ));
            }
        })
    }
}

fn s_of(t: &Token) -> String {
    match &t.tok {
        Tok::Ident(s) => s.clone(),
        _ => t.text.clone(),
    }
}
