//! The list of commonly used and breached passwords (`blocklist.txt`, 412,569 entries, lower
//! case, sorted by byte; where it comes from and its licence: `blocklist-sources.txt`),
//! searched in place: a binary search over the file's bytes, no index built and nothing
//! allocated.

/// The list, one entry a line, sorted by byte.
const LIST: &str = include_str!("blocklist.txt");

/// How many entries the list holds.
pub fn len() -> usize {
    LIST.lines().count()
}

/// Whether `word` (already lower case) is on the list.
pub fn contains(word: &str) -> bool {
    let bytes = LIST.as_bytes();
    let (mut lo, mut hi) = (0usize, bytes.len());
    // Invariant: every line starting before `lo` sorts below `word`; every line starting at
    // or after `hi` sorts above it. Lines are found from any byte by stepping back to a '\n'.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = bytes[..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| start + i);
        match bytes[start..end].cmp(word.as_bytes()) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_large_sorted_and_searchable_from_end_to_end() {
        assert!(len() >= 100_000, "{} entries", len());
        let lines: Vec<&str> = LIST.lines().collect();
        assert!(
            lines.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        for word in [
            lines[0],
            lines[1],
            lines[lines.len() / 2],
            lines[lines.len() - 1],
        ] {
            assert!(contains(word), "{word}");
        }
        assert!(contains("password1"));
        assert!(contains("contraseña"));
        assert!(!contains("marmotaverdeazul"));
        assert!(!contains(""));
        assert!(!contains("\u{10ffff}"));
    }
}
