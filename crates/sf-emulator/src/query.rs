//! SOQL against the org: binding names to the schema (INVALID_FIELD /
//! INVALID_TYPE), evaluating WHERE, sorting, paging cursors, and rendering
//! rows as REST JSON or Bulk API CSV.

use crate::ids::{canonical_15, make_id, to_18};
use crate::org::{Org, Record};
use crate::schema::FieldType;
use crate::soql::{SoqlError, ast::*, parse};
use crate::values::{
    Val, days_to_date, format_date, format_datetime, format_number, ms_to_days, parse_date,
    parse_datetime,
};
use chrono::Datelike;
use std::cmp::Ordering;
use std::sync::Arc;

/// A field reached from the queried object, maybe through lookups.
#[derive(Debug, Clone)]
pub struct BoundPath {
    /// Lookup fields followed, each with the object it is on.
    pub hops: Vec<(usize, usize)>,
    pub obj: usize,
    pub field: usize,
    pub ftype: FieldType,
    /// The field's API name, for polymorphic hops resolved at run time.
    pub name: String,
}

#[derive(Debug, Clone)]
enum Bound {
    Null,
    Val(Val),
    /// A date literal: [lo, hi) in the field's unit (days or milliseconds).
    Range(i64, i64),
}

#[derive(Debug, Clone)]
enum BoundCond {
    And(Vec<BoundCond>),
    Or(Vec<BoundCond>),
    Not(Box<BoundCond>),
    Cmp(BoundPath, &'static str, Bound),
    Like(BoundPath, Vec<LikePart>),
    In(BoundPath, bool, Vec<Bound>),
    Includes(BoundPath, bool, Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum LikePart {
    Lit(char),
    One,
    Any,
}

/// How one row is laid out: plain fields and nested parent records.
#[derive(Debug, Clone)]
pub enum Shape {
    Field {
        name: String,
        path: BoundPath,
    },
    Parent {
        rel: String,
        hop: (usize, usize),
        children: Vec<Shape>,
    },
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub obj: usize,
    pub columns: Vec<(String, BoundPath)>,
    pub shape: Vec<Shape>,
    pub count_all: bool,
    pub count_fields: Vec<(String, BoundPath)>,
    cond: Option<BoundCond>,
    order: Vec<(BoundPath, bool, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Cursor {
    pub plan: Arc<Plan>,
    pub nums: Arc<Vec<u64>>,
    pub page_size: usize,
    pub version: String,
    pub last_used: i64,
}

fn bind_path(org: &Org, src: &str, root: usize, path: &Path) -> Result<BoundPath, SoqlError> {
    let mut obj = root;
    let mut hops = vec![];
    let n = path.parts.len();
    for (i, part) in path.parts.iter().enumerate() {
        let def = org.def(obj);
        if i + 1 == n {
            // A path may start with the object's own name: Account.Name on Account.
            let Some(fi) = def.field(part) else {
                return Err(SoqlError::at(
                    "INVALID_FIELD",
                    src,
                    path.pos,
                    format!(
                        "No such column '{part}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                        def.name
                    ),
                ));
            };
            let f = &def.fields[fi];
            return Ok(BoundPath {
                hops,
                obj,
                field: fi,
                ftype: f.ftype,
                name: f.name.clone(),
            });
        }
        if i == 0
            && n > 1
            && part.eq_ignore_ascii_case(&def.name)
            && def.relationship(part).is_none()
        {
            continue;
        }
        let Some(fi) = def.relationship(part) else {
            return Err(SoqlError::at(
                "INVALID_FIELD",
                src,
                path.pos,
                format!(
                    "Didn't understand relationship '{part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        };
        hops.push((obj, fi));
        let target = &def.fields[fi].reference_to;
        let next_name = &path.parts[i + 1];
        // Polymorphic lookups: pick the first target that has the next part.
        let pick = target
            .iter()
            .filter_map(|t| org.object(t))
            .find(|&o| {
                org.def(o).field(next_name).is_some()
                    || org.def(o).relationship(next_name).is_some()
            })
            .or_else(|| target.first().and_then(|t| org.object(t)));
        obj = pick.expect("reference targets exist");
    }
    unreachable!("paths have at least one part")
}

fn bad_filter(src: &str, pos: usize, path: &BoundPath, quoted: bool) -> SoqlError {
    SoqlError::at(
        "INVALID_FIELD",
        src,
        pos,
        format!(
            "value of filter criterion for field '{}' must be of type {} and should {}be enclosed in quotes",
            path.name,
            path.ftype.soql_name(),
            if quoted { "not " } else { "" }
        ),
    )
}

fn bind_literal(
    org: &Org,
    src: &str,
    pos: usize,
    path: &BoundPath,
    lit: &Literal,
) -> Result<Bound, SoqlError> {
    let t = path.ftype;
    Ok(match lit {
        Literal::Null => Bound::Null,
        Literal::Str(s) => match t {
            FieldType::Id | FieldType::Reference => {
                let Some(c) = canonical_15(s) else {
                    return Err(SoqlError::at(
                        "INVALID_QUERY_FILTER_OPERATOR",
                        src,
                        pos,
                        format!("invalid ID field: {s}"),
                    ));
                };
                Bound::Val(Val::str(to_18(&c)))
            }
            t if t.is_text() => Bound::Val(Val::str(s.clone())),
            _ => return Err(bad_filter(src, pos, path, true)),
        },
        Literal::Num(n) if t.is_numeric() => Bound::Val(Val::Num(*n)),
        Literal::Bool(b) if t == FieldType::Boolean => Bound::Val(Val::Bool(*b)),
        Literal::Date(d) if t == FieldType::Date => {
            Bound::Val(Val::Date(parse_date(d).ok_or_else(|| {
                SoqlError::malformed(src, pos, format!("invalid date: {d}"))
            })?))
        }
        Literal::DateTime(d) if t == FieldType::Datetime => {
            Bound::Val(Val::DateTime(parse_datetime(d).ok_or_else(|| {
                SoqlError::malformed(src, pos, format!("invalid date-time: {d}"))
            })?))
        }
        Literal::DateLiteral(name, n) if matches!(t, FieldType::Date | FieldType::Datetime) => {
            let (lo, hi) = date_range(org.now(), name, n.unwrap_or(0));
            if t == FieldType::Date {
                Bound::Range(lo as i64, hi as i64)
            } else {
                Bound::Range(lo as i64 * 86_400_000, hi as i64 * 86_400_000)
            }
        }
        _ => return Err(bad_filter(src, pos, path, false)),
    })
}

/// [first day, day after last) of a date literal, in days since the epoch.
fn date_range(now_ms: i64, name: &str, n: i64) -> (i32, i32) {
    let today = ms_to_days(now_ms);
    let n = n as i32;
    let date = days_to_date(today);
    let week_start = today - date.weekday().num_days_from_sunday() as i32;
    let month_start = |y: i32, m: i32| {
        let (y, m) = (y + (m - 1).div_euclid(12), (m - 1).rem_euclid(12) + 1);
        crate::values::date_to_days(
            chrono::NaiveDate::from_ymd_opt(y, m as u32, 1).expect("valid month"),
        )
    };
    let (y, m) = (date.year(), date.month() as i32);
    let q = (m - 1) / 3 * 3 + 1;
    match name {
        "TODAY" => (today, today + 1),
        "YESTERDAY" => (today - 1, today),
        "TOMORROW" => (today + 1, today + 2),
        "THIS_WEEK" => (week_start, week_start + 7),
        "LAST_WEEK" => (week_start - 7, week_start),
        "NEXT_WEEK" => (week_start + 7, week_start + 14),
        "THIS_MONTH" => (month_start(y, m), month_start(y, m + 1)),
        "LAST_MONTH" => (month_start(y, m - 1), month_start(y, m)),
        "NEXT_MONTH" => (month_start(y, m + 1), month_start(y, m + 2)),
        "THIS_QUARTER" => (month_start(y, q), month_start(y, q + 3)),
        "LAST_QUARTER" => (month_start(y, q - 3), month_start(y, q)),
        "NEXT_QUARTER" => (month_start(y, q + 3), month_start(y, q + 6)),
        "THIS_YEAR" => (month_start(y, 1), month_start(y + 1, 1)),
        "LAST_YEAR" => (month_start(y - 1, 1), month_start(y, 1)),
        "NEXT_YEAR" => (month_start(y + 1, 1), month_start(y + 2, 1)),
        "LAST_90_DAYS" => (today - 90, today + 1),
        "NEXT_90_DAYS" => (today + 1, today + 91),
        "LAST_N_DAYS" => (today - n, today + 1),
        "NEXT_N_DAYS" => (today + 1, today + n + 1),
        "N_DAYS_AGO" => (today - n, today - n + 1),
        "LAST_N_WEEKS" => (week_start - 7 * n, week_start),
        "NEXT_N_WEEKS" => (week_start + 7, week_start + 7 * (n + 1)),
        "LAST_N_MONTHS" => (month_start(y, m - n), month_start(y, m)),
        "NEXT_N_MONTHS" => (month_start(y, m + 1), month_start(y, m + 1 + n)),
        "LAST_N_YEARS" => (month_start(y - n, 1), month_start(y, 1)),
        "NEXT_N_YEARS" => (month_start(y + 1, 1), month_start(y + 1 + n, 1)),
        _ => (today, today + 1),
    }
}

fn like_parts(pattern: &str) -> Vec<LikePart> {
    let mut out = vec![];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(LikePart::Lit(n.to_lowercase().next().unwrap_or(n)))
                }
            }
            '%' => out.push(LikePart::Any),
            '_' => out.push(LikePart::One),
            c => out.extend(c.to_lowercase().map(LikePart::Lit)),
        }
    }
    out
}

fn like_match(parts: &[LikePart], text: &[char]) -> bool {
    // Iterative wildcard matching with backtracking on the last '%'.
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        match parts.get(p) {
            Some(LikePart::Lit(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            Some(LikePart::One) => {
                p += 1;
                t += 1;
            }
            Some(LikePart::Any) => {
                star = Some(p);
                mark = t;
                p += 1;
            }
            _ => match star {
                Some(s) => {
                    p = s + 1;
                    mark += 1;
                    t = mark;
                }
                None => return false,
            },
        }
    }
    parts[p..].iter().all(|x| *x == LikePart::Any)
}

fn bind_cond(org: &Org, src: &str, root: usize, c: &Cond) -> Result<BoundCond, SoqlError> {
    Ok(match c {
        Cond::And(all) => BoundCond::And(
            all.iter()
                .map(|c| bind_cond(org, src, root, c))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Or(all) => BoundCond::Or(
            all.iter()
                .map(|c| bind_cond(org, src, root, c))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Not(a) => BoundCond::Not(Box::new(bind_cond(org, src, root, a)?)),
        Cond::Cmp {
            path,
            op,
            value,
            value_pos,
        } => {
            let p = bind_path(org, src, root, path)?;
            let v = bind_literal(org, src, *value_pos, &p, value)?;
            if matches!(v, Bound::Null) && *op != "=" && *op != "!=" {
                return Err(SoqlError::malformed(
                    src,
                    *value_pos,
                    "unexpected token: 'null'",
                ));
            }
            BoundCond::Cmp(p, op, v)
        }
        Cond::Like { path, pattern } => {
            let p = bind_path(org, src, root, path)?;
            if !p.ftype.is_text() && p.ftype != FieldType::Id && p.ftype != FieldType::Reference {
                return Err(SoqlError::at(
                    "INVALID_FIELD",
                    src,
                    path.pos,
                    format!(
                        "invalid operator on {} field: {}",
                        p.ftype.soql_name(),
                        p.name
                    ),
                ));
            }
            BoundCond::Like(p, like_parts(pattern))
        }
        Cond::In {
            path,
            negated,
            values,
            value_pos,
        } => {
            let p = bind_path(org, src, root, path)?;
            let vals = values
                .iter()
                .map(|v| bind_literal(org, src, *value_pos, &p, v))
                .collect::<Result<_, _>>()?;
            BoundCond::In(p, *negated, vals)
        }
        Cond::Includes {
            path,
            negated,
            values,
        } => {
            let p = bind_path(org, src, root, path)?;
            if p.ftype != FieldType::Multipicklist {
                return Err(SoqlError::at(
                    "INVALID_FIELD",
                    src,
                    path.pos,
                    format!(
                        "includes or excludes operator only valid on multipicklist field: {}",
                        p.name
                    ),
                ));
            }
            BoundCond::Includes(p, *negated, values.clone())
        }
    })
}

fn add_to_shape(shape: &mut Vec<Shape>, org: &Org, path: &BoundPath, depth: usize) {
    if depth == path.hops.len() {
        if !shape.iter().any(
            |s| matches!(s, Shape::Field { name, .. } if name.eq_ignore_ascii_case(&path.name)),
        ) {
            shape.push(Shape::Field {
                name: path.name.clone(),
                path: path.clone(),
            });
        }
        return;
    }
    let hop = path.hops[depth];
    let rel = org.def(hop.0).fields[hop.1]
        .relationship_name
        .clone()
        .unwrap_or_default();
    let existing = shape.iter_mut().find_map(|s| match s {
        Shape::Parent {
            rel: r, children, ..
        } if r.eq_ignore_ascii_case(&rel) => Some(children),
        _ => None,
    });
    match existing {
        Some(children) => add_to_shape(children, org, path, depth + 1),
        None => {
            let mut children = vec![];
            add_to_shape(&mut children, org, path, depth + 1);
            shape.push(Shape::Parent { rel, hop, children });
        }
    }
}

fn label_of(org: &Org, path: &BoundPath) -> String {
    let mut parts: Vec<String> = path
        .hops
        .iter()
        .map(|&(o, f)| {
            org.def(o).fields[f]
                .relationship_name
                .clone()
                .unwrap_or_default()
        })
        .collect();
    parts.push(path.name.clone());
    parts.join(".")
}

impl Plan {
    pub fn compile(org: &Org, soql: &str) -> Result<Plan, SoqlError> {
        let q = parse(soql)?;
        let Some(obj) = org.object(&q.from) else {
            return Err(SoqlError::at(
                "INVALID_TYPE",
                soql,
                q.from_pos,
                format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                    q.from
                ),
            ));
        };
        let mut columns = vec![];
        let mut count_all = false;
        let mut count_fields = vec![];
        let mut shape = vec![];
        for (i, item) in q.select.iter().enumerate() {
            match item {
                SelectItem::Field(p) => {
                    let b = bind_path(org, soql, obj, p)?;
                    add_to_shape(&mut shape, org, &b, 0);
                    if !columns.iter().any(|(l, _): &(String, BoundPath)| {
                        l.eq_ignore_ascii_case(&label_of(org, &b))
                    }) {
                        columns.push((label_of(org, &b), b));
                    }
                }
                SelectItem::CountAll => count_all = true,
                SelectItem::Count(p, alias) => {
                    let b = bind_path(org, soql, obj, p)?;
                    count_fields.push((alias.clone().unwrap_or_else(|| format!("expr{}", i)), b));
                }
            }
        }
        if count_all && q.select.len() > 1 {
            return Err(SoqlError::malformed(
                soql,
                0,
                "COUNT() and a field list cannot be mixed",
            ));
        }
        if !count_fields.is_empty() && !columns.is_empty() {
            return Err(SoqlError::at(
                "MALFORMED_QUERY",
                soql,
                columns[0].1.hops.len(),
                format!("Field must be grouped or aggregated: {}", columns[0].0),
            ));
        }
        let cond = q
            .where_
            .as_ref()
            .map(|c| bind_cond(org, soql, obj, c))
            .transpose()?;
        let mut order = vec![];
        for o in &q.order_by {
            let b = bind_path(org, soql, obj, &o.path)?;
            order.push((b, o.desc, o.nulls_last.unwrap_or(o.desc)));
        }
        if q.offset.is_some_and(|o| o > 2000) {
            return Err(SoqlError::new_plain(
                "NUMBER_OUTSIDE_VALID_RANGE",
                "Maximum SOQL offset allowed is 2000",
            ));
        }
        Ok(Plan {
            obj,
            columns,
            shape,
            count_all,
            count_fields,
            cond,
            order,
            limit: q.limit,
            offset: q.offset,
        })
    }

    /// The matching record numbers, sorted and cut by OFFSET/LIMIT.
    pub fn execute(&self, org: &Org, include_deleted: bool) -> Vec<u64> {
        let now = org.now();
        let table = &org.tables[self.obj];
        // `Id IN (...)` or an external id `= / IN` reads only the records
        // the index names, as Salesforce's selective queries do; the full
        // condition is still applied to them.
        let candidates = self
            .cond
            .as_ref()
            .and_then(|c| indexed_candidates(org, self.obj, c));
        let rows: Box<dyn Iterator<Item = &Record>> = match &candidates {
            Some(nums) => Box::new(nums.iter().filter_map(|n| table.get(*n))),
            None => Box::new(table.slots.iter().flatten()),
        };
        let mut matched: Vec<&Record> = rows
            .filter(|r| r.visible_at <= now && (include_deleted || r.deleted_at.is_none()))
            .filter(|r| self.cond.as_ref().is_none_or(|c| eval(org, self.obj, r, c)))
            .collect();
        if !self.order.is_empty() {
            let mut keyed: Vec<(Vec<Val>, &Record)> = matched
                .into_iter()
                .map(|r| {
                    (
                        self.order
                            .iter()
                            .map(|(p, _, _)| fetch(org, self.obj, r, p))
                            .collect(),
                        r,
                    )
                })
                .collect();
            keyed.sort_by(|(a, ra), (b, rb)| {
                for (i, (_, desc, nulls_last)) in self.order.iter().enumerate() {
                    let o = match (a[i].is_null(), b[i].is_null()) {
                        (true, true) => Ordering::Equal,
                        (true, false) => {
                            if *nulls_last {
                                Ordering::Greater
                            } else {
                                Ordering::Less
                            }
                        }
                        (false, true) => {
                            if *nulls_last {
                                Ordering::Less
                            } else {
                                Ordering::Greater
                            }
                        }
                        _ => {
                            let o = compare(&a[i], &b[i]).unwrap_or(Ordering::Equal);
                            if *desc { o.reverse() } else { o }
                        }
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                ra.num.cmp(&rb.num)
            });
            matched = keyed.into_iter().map(|(_, r)| r).collect();
        }
        let offset = self.offset.unwrap_or(0) as usize;
        let limit = self.limit.map(|l| l as usize).unwrap_or(usize::MAX);
        matched
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|r| r.num)
            .collect()
    }
}

impl SoqlError {
    pub fn new_plain(code: &'static str, message: &str) -> SoqlError {
        SoqlError {
            code,
            message: message.to_string(),
        }
    }
}

/// Follows a path from a record; a missing parent gives Null.
pub fn fetch(org: &Org, obj: usize, rec: &Record, path: &BoundPath) -> Val {
    let mut cur_obj = obj;
    let mut cur: &Record = rec;
    for &(_, fi) in &path.hops {
        let Val::Str(id) = org.value(cur_obj, cur, fi) else {
            return Val::Null;
        };
        let Some((o, n)) = org.locate(&id) else {
            return Val::Null;
        };
        cur_obj = o;
        cur = org.record(o, n).expect("located");
    }
    let fi = if cur_obj == path.obj {
        Some(path.field)
    } else {
        org.def(cur_obj).field(&path.name)
    };
    fi.map(|fi| org.value(cur_obj, cur, fi))
        .unwrap_or(Val::Null)
}

fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(cmp_ci(x, y)),
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(y)),
        (Val::DateTime(x), Val::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn cmp_ci(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

fn unit_value(v: &Val) -> Option<i64> {
    match v {
        Val::Date(d) => Some(*d as i64),
        Val::DateTime(ms) => Some(*ms),
        _ => None,
    }
}

fn eq_bound(v: &Val, b: &Bound) -> bool {
    match b {
        Bound::Null => v.is_null(),
        Bound::Val(x) => compare(v, x) == Some(Ordering::Equal),
        Bound::Range(lo, hi) => unit_value(v).is_some_and(|u| u >= *lo && u < *hi),
    }
}

fn eval(org: &Org, obj: usize, rec: &Record, c: &BoundCond) -> bool {
    match c {
        BoundCond::And(all) => all.iter().all(|c| eval(org, obj, rec, c)),
        BoundCond::Or(all) => all.iter().any(|c| eval(org, obj, rec, c)),
        BoundCond::Not(a) => !eval(org, obj, rec, a),
        BoundCond::Cmp(p, op, b) => {
            let v = fetch(org, obj, rec, p);
            match *op {
                "=" => eq_bound(&v, b),
                "!=" => !eq_bound(&v, b),
                _ if v.is_null() => false,
                op => match b {
                    Bound::Null => false,
                    Bound::Val(x) => compare(&v, x).is_some_and(|o| match op {
                        "<" => o == Ordering::Less,
                        "<=" => o != Ordering::Greater,
                        ">" => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    }),
                    Bound::Range(lo, hi) => unit_value(&v).is_some_and(|u| match op {
                        "<" => u < *lo,
                        "<=" => u < *hi,
                        ">" => u >= *hi,
                        _ => u >= *lo,
                    }),
                },
            }
        }
        BoundCond::Like(p, parts) => match fetch(org, obj, rec, p) {
            Val::Str(s) => {
                let chars: Vec<char> = s.chars().flat_map(char::to_lowercase).collect();
                like_match(parts, &chars)
            }
            _ => false,
        },
        BoundCond::In(p, negated, values) => {
            let v = fetch(org, obj, rec, p);
            let found = values.iter().any(|b| eq_bound(&v, b));
            found != *negated
        }
        BoundCond::Includes(p, negated, wanted) => {
            let v = fetch(org, obj, rec, p);
            let have: Vec<String> = v
                .as_str()
                .map(|s| s.split(';').map(|x| x.trim().to_lowercase()).collect())
                .unwrap_or_default();
            // each wanted item may be "a;b" meaning both
            let any = wanted.iter().any(|w| {
                w.split(';')
                    .all(|part| have.contains(&part.trim().to_lowercase()))
            });
            if *negated { !any } else { any }
        }
    }
}

// ---- rendering ---------------------------------------------------------

pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

pub fn push_json_val(out: &mut String, v: &Val, ftype: FieldType) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(n) => crate::values::push_number(out, *n, ftype == FieldType::Int),
        Val::Str(s) => push_json_str(out, s),
        Val::Date(d) => push_json_str(out, &format_date(*d)),
        Val::DateTime(ms) => push_json_str(out, &format_datetime(*ms)),
    }
}

pub fn text_of(v: &Val, ftype: FieldType) -> String {
    match v {
        Val::Null => String::new(),
        Val::Bool(b) => b.to_string(),
        Val::Num(n) => format_number(*n, ftype == FieldType::Int),
        Val::Str(s) => s.to_string(),
        Val::Date(d) => format_date(*d),
        Val::DateTime(ms) => format_datetime(*ms),
    }
}

fn push_attributes(out: &mut String, type_name: &str, id: Option<&str>, version: &str) {
    out.push_str("\"attributes\":{\"type\":");
    push_json_str(out, type_name);
    if let Some(id) = id {
        out.push_str(",\"url\":");
        push_json_str(
            out,
            &format!("/services/data/v{version}/sobjects/{type_name}/{id}"),
        );
    }
    out.push('}');
}

fn render_shape(
    org: &Org,
    obj: usize,
    rec: &Record,
    shape: &[Shape],
    version: &str,
    out: &mut String,
) {
    let def = org.def(obj);
    let id = crate::ids::id_bytes(&def.key_prefix, rec.num);
    let id = std::str::from_utf8(&id).expect("ascii id");
    out.push_str("{\"attributes\":{\"type\":\"");
    out.push_str(&def.name);
    out.push_str("\",\"url\":\"/services/data/v");
    out.push_str(version);
    out.push_str("/sobjects/");
    out.push_str(&def.name);
    out.push('/');
    out.push_str(id);
    out.push_str("\"}");
    for s in shape {
        out.push(',');
        match s {
            Shape::Field { name, path } => {
                push_json_str(out, name);
                out.push(':');
                let fi = if path.obj == obj {
                    Some(path.field)
                } else {
                    def.field(name)
                };
                match fi {
                    // The two hottest fields are written without a copy.
                    Some(fi) if def.fields[fi].sys == Some(crate::schema::SysField::Id) => {
                        push_json_str(out, id)
                    }
                    Some(fi) if def.fields[fi].sys.is_none() => {
                        push_json_val(out, rec.get(fi), path.ftype)
                    }
                    Some(fi) => push_json_val(out, &org.value(obj, rec, fi), path.ftype),
                    None => out.push_str("null"),
                }
            }
            Shape::Parent { rel, hop, children } => {
                push_json_str(out, rel);
                out.push(':');
                let parent = match org.value(obj, rec, hop.1) {
                    Val::Str(id) => org.locate(&id),
                    _ => None,
                };
                match parent {
                    Some((po, pn)) => render_shape(
                        org,
                        po,
                        org.record(po, pn).expect("located"),
                        children,
                        version,
                        out,
                    ),
                    None => out.push_str("null"),
                }
            }
        }
    }
    out.push('}');
}

/// One query row as REST JSON.
pub fn render_row(org: &Org, plan: &Plan, num: u64, version: &str, out: &mut String) {
    match org.record(plan.obj, num) {
        Some(rec) => render_shape(org, plan.obj, rec, &plan.shape, version, out),
        None => out.push_str("null"),
    }
}

/// A whole record (every field) as REST JSON, or the listed fields.
pub fn render_record(
    org: &Org,
    obj: usize,
    rec: &Record,
    fields: Option<&[usize]>,
    version: &str,
) -> String {
    let def = org.def(obj);
    let mut out = String::with_capacity(512);
    out.push('{');
    push_attributes(
        &mut out,
        &def.name,
        Some(&make_id(&def.key_prefix, rec.num)),
        version,
    );
    let all: Vec<usize> = (0..def.fields.len()).collect();
    for &fi in fields.unwrap_or(&all) {
        out.push(',');
        push_json_str(&mut out, &def.fields[fi].name);
        out.push(':');
        push_json_val(&mut out, &org.value(obj, rec, fi), def.fields[fi].ftype);
    }
    out.push('}');
    out
}

/// A page of a query answer: `{"totalSize","done","nextRecordsUrl","records"}`.
pub fn render_page(org: &Org, cursor: &Cursor, start: usize, cursor_id: &str) -> String {
    let total = cursor.nums.len();
    let end = (start + cursor.page_size).min(total);
    let mut out = String::with_capacity(64 + (end - start) * 256);
    out.push_str(&format!(
        "{{\"totalSize\":{total},\"done\":{}",
        end >= total
    ));
    if end < total {
        out.push_str(&format!(
            ",\"nextRecordsUrl\":\"/services/data/v{}/query/{cursor_id}-{end}\"",
            cursor.version
        ));
    }
    out.push_str(",\"records\":[");
    for (i, num) in cursor.nums[start..end].iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        render_row(org, &cursor.plan, *num, &cursor.version, &mut out);
    }
    out.push_str("]}");
    out
}

/// COUNT() and COUNT(field) answers.
pub fn render_aggregate(org: &Org, plan: &Plan, nums: &[u64]) -> String {
    if plan.count_all {
        return format!(
            "{{\"totalSize\":{},\"done\":true,\"records\":[]}}",
            nums.len()
        );
    }
    let mut out = String::from("{\"totalSize\":1,\"done\":true,\"records\":[{");
    push_attributes(&mut out, "AggregateResult", None, "");
    for (alias, path) in &plan.count_fields {
        let n = nums
            .iter()
            .filter(|&&num| {
                org.record(plan.obj, num)
                    .is_some_and(|r| !fetch(org, plan.obj, r, path).is_null())
            })
            .count();
        out.push(',');
        push_json_str(&mut out, alias);
        out.push_str(&format!(":{n}"));
    }
    out.push_str("}]}");
    out
}

/// Bulk API 2.0 query rows as CSV (every value quoted, as Salesforce does).
pub fn render_csv(
    org: &Org,
    plan: &Plan,
    nums: &[u64],
    header: bool,
    delimiter: u8,
    crlf: bool,
) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .delimiter(delimiter)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::with_capacity(nums.len() * 128 + 64));
    if header {
        w.write_record(plan.columns.iter().map(|(l, _)| l.as_str()))
            .expect("in-memory write");
    }
    let mut row: Vec<String> = Vec::with_capacity(plan.columns.len());
    for &num in nums {
        let Some(rec) = org.record(plan.obj, num) else {
            continue;
        };
        row.clear();
        for (_, p) in &plan.columns {
            row.push(text_of(&fetch(org, plan.obj, rec, p), p.ftype));
        }
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

/// The records a condition can only match, found through an index: the
/// `Id`, or a unique or external id field, compared with `=` or `IN` at
/// the top level (or in a top-level AND). None when the table must be read.
fn indexed_candidates(org: &Org, obj: usize, cond: &BoundCond) -> Option<Vec<u64>> {
    let (path, values): (&BoundPath, Vec<&Bound>) = match cond {
        BoundCond::And(items) => {
            return items.iter().find_map(|c| indexed_candidates(org, obj, c));
        }
        BoundCond::In(p, false, values) => (p, values.iter().collect()),
        BoundCond::Cmp(p, "=", v) => (p, vec![v]),
        _ => return None,
    };
    if !path.hops.is_empty() || path.obj != obj {
        return None;
    }
    let table = &org.tables[obj];
    let mut nums: Vec<u64> = vec![];
    if path.name == "Id" {
        for v in values {
            let Bound::Val(Val::Str(id)) = v else {
                continue;
            };
            if let Some((o, num)) = org.locate(id)
                && o == obj
            {
                nums.push(num);
            }
        }
    } else {
        let index = table.index.get(&(path.field as u16))?;
        for v in values {
            let Bound::Val(v) = v else {
                return None;
            };
            let key = crate::org::index_key(v)?;
            nums.extend(index.get(&key).into_iter().flatten().copied());
        }
    }
    nums.sort_unstable();
    nums.dedup();
    Some(nums)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let m = |p: &str, t: &str| {
            like_match(
                &like_parts(p),
                &t.to_lowercase().chars().collect::<Vec<_>>(),
            )
        };
        assert!(m("Acme%", "ACME Corp"));
        assert!(m("%corp", "Acme Corp"));
        assert!(m("A_me", "Acme"));
        assert!(!m("A_me", "Acmee"));
        assert!(m("%", ""));
        assert!(m("50\\%", "50%"));
        assert!(!m("50\\%", "500"));
    }
}
