//! Salesforce record ids: 15 case-sensitive characters (3-character key
//! prefix, 2 "instance" characters, 10 base-62 digits of a per-object counter)
//! plus the 3-character case-safe suffix.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const INSTANCE: &str = "Dn";

/// The 3-character checksum that makes a 15-character id case-insensitive.
pub fn suffix(id15: &str) -> String {
    let bytes = id15.as_bytes();
    let mut out = String::with_capacity(3);
    for chunk in 0..3 {
        let mut flags = 0usize;
        for i in 0..5 {
            if bytes[chunk * 5 + i].is_ascii_uppercase() {
                flags |= 1 << i;
            }
        }
        out.push(SUFFIX[flags] as char);
    }
    out
}

/// The 18-character id of record number `num` of the object with `prefix`.
pub fn make_id(prefix: &str, num: u64) -> String {
    let mut digits = [b'0'; 10];
    let mut n = num;
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let mut id = String::with_capacity(18);
    id.push_str(prefix);
    id.push_str(INSTANCE);
    id.push_str(std::str::from_utf8(&digits).expect("ascii"));
    let sfx = suffix(&id);
    id.push_str(&sfx);
    id
}

/// The 18-character id, built on the stack: for hot paths that render
/// many rows.
pub fn id_bytes(prefix: &str, num: u64) -> [u8; 18] {
    let mut id = [b'0'; 18];
    id[..3].copy_from_slice(&prefix.as_bytes()[..3]);
    id[3..5].copy_from_slice(INSTANCE.as_bytes());
    let mut n = num;
    for d in id[5..15].iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    for chunk in 0..3 {
        let mut flags = 0usize;
        for i in 0..5 {
            if id[chunk * 5 + i].is_ascii_uppercase() {
                flags |= 1 << i;
            }
        }
        id[15 + chunk] = SUFFIX[flags];
    }
    id
}

/// A parsed id: the key prefix and the record number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedId {
    pub prefix: String,
    pub num: u64,
}

/// Accepts 15- and 18-character ids; an 18-character id is case-insensitive
/// (its suffix restores the case). Returns None for anything else.
pub fn parse_id(input: &str) -> Option<ParsedId> {
    let id15 = canonical_15(input)?;
    let prefix = &id15[..3];
    if &id15[3..5] != INSTANCE {
        return None;
    }
    let mut num: u64 = 0;
    for b in id15[5..].bytes() {
        let d = BASE62.iter().position(|&c| c == b)? as u64;
        num = num.checked_mul(62)?.checked_add(d)?;
    }
    Some(ParsedId {
        prefix: prefix.to_string(),
        num,
    })
}

/// The case-correct 15-character form of a 15- or 18-character id.
pub fn canonical_15(input: &str) -> Option<String> {
    if !input.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match input.len() {
        15 => Some(input.to_string()),
        18 => {
            let mut chars: Vec<u8> = input.as_bytes()[..15].to_vec();
            for (chunk, flag_char) in input[15..].bytes().enumerate() {
                let flags = SUFFIX
                    .iter()
                    .position(|&c| c == flag_char.to_ascii_uppercase())?;
                for i in 0..5 {
                    let c = &mut chars[chunk * 5 + i];
                    if flags & (1 << i) != 0 {
                        *c = c.to_ascii_uppercase();
                    } else {
                        *c = c.to_ascii_lowercase();
                    }
                }
            }
            let id = String::from_utf8(chars).ok()?;
            Some(id)
        }
        _ => None,
    }
}

/// A well-formed 15/18 character id: used to tell MALFORMED_ID from NOT_FOUND.
pub fn looks_like_id(input: &str) -> bool {
    canonical_15(input).is_some()
}

pub fn to_18(id15: &str) -> String {
    format!("{id15}{}", suffix(id15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_salesforce_suffix() {
        // A published example: 001A0000006Vm9r -> 001A0000006Vm9rIAC
        assert_eq!(suffix("001A0000006Vm9r"), "IAC");
        assert_eq!(to_18("0015000000Gv7qJ"), "0015000000Gv7qJAAR");
    }

    #[test]
    fn round_trip_and_case_insensitive_18() {
        for num in [1u64, 61, 62, 12345, 987_654_321, u32::MAX as u64] {
            let id = make_id("001", num);
            assert_eq!(id.len(), 18);
            let parsed = parse_id(&id).unwrap();
            assert_eq!(
                parsed,
                ParsedId {
                    prefix: "001".into(),
                    num
                }
            );
            assert_eq!(parse_id(&id[..15]).unwrap().num, num);
            assert_eq!(parse_id(&id.to_lowercase()).unwrap().num, num);
            assert_eq!(parse_id(&id.to_uppercase()).unwrap().num, num);
            assert_eq!(&id_bytes("001", num)[..], id.as_bytes());
        }
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse_id("xyz").is_none());
        assert!(parse_id("001Dn00000000-1").is_none());
        assert!(parse_id("").is_none());
    }
}
