//! Near-duplicate clusters across sources. Canonical URLs (see `normalize`) already merge
//! exact reposts; this stage, run as items are stored (in the same transaction) and before
//! the index catches up, groups the same story reposted with small edits — a changed
//! title, a trimmed ending, a "Chia sẻ từ …" prefix — by MinHash over word 3-shingles of
//! the folded text.
//!
//! Two texts are near duplicates when the estimated share of the *shorter* text's
//! shingles found in the longer one (containment, derived from the Jaccard estimate and
//! both shingle counts) reaches `SAME_STORY`. Each item then carries the cluster id of the
//! first item of its story (`store::clusters`).
//!
//! The one "same story" rule lives here too ([`StoryKey`]): two stored items tell the same
//! story when they share a cluster or a canonical URL. Search collapsing (`search::collapse`),
//! digests (`digest::select`) and "also posted by" (`store::related`) all go by it.

use crate::vietnamese;

/// Number of MinHash functions (64 × u32 = 256 bytes per item).
pub const HASHES: usize = 64;
/// Texts with fewer shingles than this are too short to judge and never cluster.
pub const MIN_SHINGLES: u32 = 15;
/// Containment at or above which two items tell the same story.
pub const SAME_STORY: f64 = 0.5;

/// LSH bands: 32 bands of 2 hashes. Two texts with Jaccard similarity 0.4 (the same story
/// trimmed to 40%) share a band with probability 0.996; unrelated texts (0.01) 0.003.
pub const BANDS: usize = 32;
const ROWS: usize = HASHES / BANDS;

/// Only items published this close to each other are compared.
pub const WINDOW_DAYS: i64 = 7;
/// Band keys are filed in time buckets twice the window wide, so an item's window spans
/// its own bucket and one neighbour.
const BUCKET_SECONDS: i64 = 2 * WINDOW_DAYS * 86_400;

/// What makes two stored items one story: they share any of their story keys — the same
/// near-duplicate cluster (reposts with small edits), or the same canonical URL (exact
/// reposts, also when the text is too short to cluster or before clustering ran;
/// `normalize` already removed the tracking parameters). An item without either key is a
/// story of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StoryKey {
    Cluster(i64),
    Url(String),
}

impl StoryKey {
    /// The story keys of an item with this cluster id and canonical URL.
    pub fn of(cluster: Option<i64>, canonical_url: Option<&str>) -> Vec<StoryKey> {
        let mut keys = Vec::with_capacity(2);
        if let Some(c) = cluster {
            keys.push(StoryKey::Cluster(c));
        }
        if let Some(u) = canonical_url.filter(|u| !u.is_empty()) {
            keys.push(StoryKey::Url(u.to_string()));
        }
        keys
    }
}

/// Group a list of items into stories by their keys (`keys[i]` are item `i`'s): an item
/// joins the story of the first earlier item it shares a key with, else starts a new one.
/// Returns each item's story number; stories are numbered 0, 1, 2… in order of their
/// first item, so an item leads its story when its number is new.
pub fn group_stories(keys: &[Vec<StoryKey>]) -> Vec<usize> {
    let mut story_of: std::collections::HashMap<&StoryKey, usize> =
        std::collections::HashMap::new();
    let mut stories = 0;
    keys.iter()
        .map(|item_keys| {
            let story = match item_keys.iter().find_map(|k| story_of.get(k)) {
                Some(&s) => s,
                None => {
                    stories += 1;
                    stories - 1
                }
            };
            for k in item_keys {
                story_of.entry(k).or_insert(story);
            }
            story
        })
        .collect()
}

/// The time bucket of a publication time (Unix seconds).
pub fn bucket_of(published: i64) -> i64 {
    published.div_euclid(BUCKET_SECONDS)
}

/// The buckets holding every item published within the window of `published`: its own
/// and the neighbour on the side of the bucket it is closer to.
pub fn buckets_near(published: i64) -> [i64; 2] {
    let b = bucket_of(published);
    if published - b * BUCKET_SECONDS < BUCKET_SECONDS / 2 {
        [b, b - 1]
    } else {
        [b, b + 1]
    }
}

/// The MinHash signature of one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub mins: [u32; HASHES],
    /// Number of distinct shingles.
    pub shingles: u32,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_more(FNV_OFFSET, bytes)
}

/// FNV-1a continued over more bytes (hashing pieces in turn = hashing them joined).
fn fnv1a_more(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

const fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The seed of each MinHash function: `splitmix(k + 1)`.
const SEEDS: [u64; HASHES] = {
    let mut seeds = [0u64; HASHES];
    let mut k = 0;
    while k < HASHES {
        seeds[k] = splitmix(k as u64 + 1);
        k += 1;
    }
    seeds
};

/// The signature of `text`, or `None` when it is too short to compare. The text is an
/// item's stored text (see [`item_text`]), already cleaned by `normalize`
/// (`vietnamese::clean`), so it is not cleaned again here.
pub fn signature(text: &str) -> Option<Signature> {
    // The folded words of the text, kept in one buffer: each shingle is hashed as its
    // three words joined by single spaces, straight from the buffer.
    let mut buf = String::with_capacity(text.len());
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // Asked once of the whole text: most texts have no capital sigma.
    let sigma = text.contains('Σ');
    for w in text
        .split(|c: char| !vietnamese::is_word_char(c))
        .filter(|w| !w.is_empty())
    {
        let start = buf.len();
        // `fold_into` lowercases letter by letter, which is what `str::to_lowercase` (used
        // for the stored signatures) does too, except for a word-final capital sigma.
        if sigma && w.contains('Σ') {
            vietnamese::fold_into(&w.to_lowercase(), &mut buf);
        } else {
            vietnamese::fold_into(w, &mut buf);
        }
        spans.push((start, buf.len()));
    }
    if spans.len() < 3 {
        return None;
    }
    let bytes = buf.as_bytes();
    let mut shingles: Vec<u64> = spans
        .windows(3)
        .map(|w| {
            let mut h = fnv1a_more(FNV_OFFSET, &bytes[w[0].0..w[0].1]);
            for &(a, b) in &w[1..] {
                h = fnv1a_more(h, b" ");
                h = fnv1a_more(h, &bytes[a..b]);
            }
            h
        })
        .collect();
    shingles.sort_unstable();
    shingles.dedup();
    let count = u32::try_from(shingles.len()).unwrap_or(u32::MAX);
    if count < MIN_SHINGLES {
        return None;
    }
    Some(Signature {
        mins: min_hashes(&shingles),
        shingles: count,
    })
}

/// For each of the `HASHES` functions, the smallest hash over all shingles: 64 hashes of
/// every shingle, the bulk of a signature's cost. The same loop is compiled a second and
/// third time for the x86-64 vector extensions (AVX-512 multiplies eight 64-bit lanes at
/// once, about 6× faster; AVX2 about 2×) and the one the CPU has is picked at run time.
/// Every version gives the same values (unit-tested), so stored signatures stay valid.
fn min_hashes(shingles: &[u64]) -> [u32; HASHES] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            // SAFETY: the CPU has just been checked to support the features
            // `min_hashes_avx512` is compiled with.
            #[allow(unsafe_code)]
            return unsafe { min_hashes_avx512(shingles) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above, for AVX2.
            #[allow(unsafe_code)]
            return unsafe { min_hashes_avx2(shingles) };
        }
    }
    min_hashes_portable(shingles)
}

#[inline(always)]
fn min_hashes_portable(shingles: &[u64]) -> [u32; HASHES] {
    let mut mins = [u32::MAX; HASHES];
    for s in shingles {
        for (m, seed) in mins.iter_mut().zip(SEEDS.iter()) {
            let h = (splitmix(*s ^ seed) >> 32) as u32;
            if h < *m {
                *m = h;
            }
        }
    }
    mins
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
fn min_hashes_avx512(shingles: &[u64]) -> [u32; HASHES] {
    min_hashes_portable(shingles)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn min_hashes_avx2(shingles: &[u64]) -> [u32; HASHES] {
    min_hashes_portable(shingles)
}

impl Signature {
    /// Estimated Jaccard similarity of the two shingle sets.
    pub fn jaccard(&self, other: &Signature) -> f64 {
        let same = self
            .mins
            .iter()
            .zip(other.mins.iter())
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / HASHES as f64
    }

    /// Estimated share of the smaller set's shingles that the other set also has.
    pub fn containment(&self, other: &Signature) -> f64 {
        let j = self.jaccard(other);
        let (a, b) = (f64::from(self.shingles), f64::from(other.shingles));
        let inter = j * (a + b) / (1.0 + j);
        (inter / a.min(b)).min(1.0)
    }

    /// True when the two texts tell the same story.
    pub fn same_story(&self, other: &Signature) -> bool {
        self.containment(other) >= SAME_STORY
    }

    /// One hash per LSH band; items of one time bucket (see [`bucket_of`]) sharing any
    /// band's hash are candidate duplicates (`store::bands` files them by bucket).
    pub fn band_hashes(&self) -> [u32; BANDS] {
        std::array::from_fn(|b| {
            // The band's number, then its rows' minimums, hashed in turn (as one byte
            // string: the stored keys depend on it).
            let mut h = fnv1a(&(b as u32).to_le_bytes());
            for m in &self.mins[b * ROWS..(b + 1) * ROWS] {
                h = fnv1a_more(h, &m.to_le_bytes());
            }
            // 32 bits are enough to find candidates (each is verified by its whole
            // signature) and keep the band rows small.
            h as u32
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.mins.iter().flat_map(|m| m.to_le_bytes()).collect()
    }

    /// A signature as the items table stores it: the `minhash` blob and the `shingles`
    /// count (`None` when the blob is missing or malformed).
    pub fn from_stored(bytes: &[u8], shingles: i64) -> Option<Signature> {
        Self::from_bytes(bytes, u32::try_from(shingles).unwrap_or(0))
    }

    pub fn from_bytes(bytes: &[u8], shingles: u32) -> Option<Signature> {
        if bytes.len() != HASHES * 4 {
            return None;
        }
        let mut mins = [0u32; HASHES];
        for (m, c) in mins.iter_mut().zip(bytes.chunks_exact(4)) {
            *m = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Some(Signature { mins, shingles })
    }
}

/// The text an item is compared by: title and body (or summary when there is no body).
pub fn item_text(title: &str, summary: &str, content_text: &str) -> String {
    let body = if content_text.trim().is_empty() {
        summary
    } else {
        content_text
    };
    format!("{title}\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first, allocation-heavy way signatures were computed; signatures already stored
    /// in SQLite were made this way, so the fast path must give the very same values.
    fn reference_signature(text: &str) -> Option<Signature> {
        let w: Vec<String> = vietnamese::clean(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| vietnamese::fold(&w.to_lowercase()))
            .collect();
        if w.len() < 3 {
            return None;
        }
        let mut shingles: Vec<u64> = w
            .windows(3)
            .map(|s| fnv1a(s.join(" ").as_bytes()))
            .collect();
        shingles.sort_unstable();
        shingles.dedup();
        let count = shingles.len() as u32;
        if count < MIN_SHINGLES {
            return None;
        }
        let mut mins = [u32::MAX; HASHES];
        for s in &shingles {
            for (k, m) in mins.iter_mut().enumerate() {
                let h = (splitmix(*s ^ splitmix(k as u64 + 1)) >> 32) as u32;
                *m = (*m).min(h);
            }
        }
        Some(Signature {
            mins,
            shingles: count,
        })
    }

    #[test]
    fn every_compiled_form_of_the_min_hashes_agrees() {
        let shingles: Vec<u64> = (0..700u64).map(|i| splitmix(i * 7_919)).collect();
        for n in [0, 1, 3, 15, 64, 699, 700] {
            let expected = min_hashes_portable(&shingles[..n]);
            assert_eq!(min_hashes(&shingles[..n]), expected, "{n} shingles");
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    #[allow(unsafe_code)]
                    // SAFETY: AVX2 was just detected.
                    let avx2 = unsafe { min_hashes_avx2(&shingles[..n]) };
                    assert_eq!(avx2, expected, "AVX2, {n} shingles");
                }
            }
        }
        assert_ne!(min_hashes(&shingles[..3]), [u32::MAX; HASHES]);
    }

    #[test]
    fn the_two_near_buckets_cover_the_whole_window() {
        let window = WINDOW_DAYS * 86_400;
        for t in (-3 * BUCKET_SECONDS..3 * BUCKET_SECONDS).step_by(3_607) {
            let near = buckets_near(t);
            for other in [t - window, t - 1, t, t + 1, t + window] {
                assert!(near.contains(&bucket_of(other)), "{t} / {other}: {near:?}");
            }
        }
    }

    #[test]
    fn fast_signature_equals_the_stored_form() {
        let texts = [
            STORY.to_string(),
            STORY.to_uppercase(),
            format!("Chia sẻ từ Tôi yêu Kon Rẫy: {STORY}"),
            format!("{STORY} ĐẮK RUỒNG ΣΟΦΟΣ ΟΔΟΣ Σ ÀÉÎÕÜ ǅ Ǆ ǈ İ ẞ"),
            "quá ngắn".to_string(),
        ];
        for t in &texts {
            // Stored text is clean already; the stored signatures cleaned it again.
            assert_eq!(&vietnamese::clean(t), t);
            assert_eq!(signature(t), reference_signature(t), "{t}");
        }
        assert!(signature(STORY).is_some());
    }

    const STORY: &str = "Sáng 12/3, UBND huyện Kon Rẫy tổ chức lễ công bố xã Đắk Ruồng đạt chuẩn \
        nông thôn mới năm 2023. Đây là xã thứ năm của huyện về đích, với 19 trên 19 tiêu chí \
        đạt chuẩn. Thu nhập bình quân đầu người đạt 48 triệu đồng mỗi năm, tỷ lệ hộ nghèo \
        giảm còn 3,2 phần trăm. Phát biểu tại buổi lễ, lãnh đạo huyện đề nghị xã tiếp tục \
        giữ vững và nâng cao chất lượng các tiêu chí đã đạt.";

    #[test]
    fn stories_join_by_any_shared_key_first_item_leads() {
        let url = |u: &str| StoryKey::Url(u.to_string());
        let keys = vec![
            StoryKey::of(Some(1), Some("https://a.vn/1")),
            // Same URL, other cluster: the same story, and its cluster joins it too.
            StoryKey::of(Some(2), Some("https://a.vn/1")),
            StoryKey::of(Some(2), None),
            StoryKey::of(None, Some("https://b.vn/2")),
            // No key at all: a story of its own, every time.
            StoryKey::of(None, None),
            StoryKey::of(None, Some("")),
            vec![url("https://b.vn/2")],
        ];
        assert_eq!(group_stories(&keys), vec![0, 0, 0, 1, 2, 3, 1]);
    }

    #[test]
    fn identical_and_edited_texts_match_unrelated_do_not() {
        let a = signature(STORY).expect("sig");
        let b = signature(&format!("Chia sẻ từ Báo Kon Tum: {STORY}")).expect("sig");
        assert!(a.same_story(&b), "{}", a.containment(&b));
        let half: String = STORY.chars().take(STORY.chars().count() * 6 / 10).collect();
        let c = signature(&half).expect("sig");
        assert!(a.same_story(&c), "{}", a.containment(&c));
        let other = signature(
            "Chiều 12/3, huyện Đắk Hà tổ chức hội nghị tổng kết chương trình mục tiêu quốc gia \
             xây dựng nông thôn mới giai đoạn 2021 đến 2025, các xã báo cáo kết quả thực hiện \
             tiêu chí về giao thông, thủy lợi, điện và trường học trên địa bàn.",
        )
        .expect("sig");
        assert!(!a.same_story(&other), "{}", a.containment(&other));
        let back = Signature::from_bytes(&a.to_bytes(), a.shingles).expect("bytes");
        assert_eq!(back, a);
    }

    #[test]
    fn short_texts_are_not_compared() {
        assert!(signature("Tin ngắn").is_none());
    }

    #[test]
    fn band_hashes_are_those_the_stored_rows_were_filed_under() {
        // A band's hash is its number and its rows' minimums, joined into one byte string
        // and hashed, as the keys of the earlier band tables were: which items are
        // candidates, and so the clusters, depend on it.
        let text: String = (0..80)
            .map(|i| format!("Kon Rẫy xã {i} hoàn thành nông thôn mới năm {} ", 2000 + i))
            .collect();
        let sig = signature(&text).expect("long enough");
        for (b, hash) in sig.band_hashes().iter().enumerate() {
            let mut bytes = (b as u32).to_le_bytes().to_vec();
            for m in &sig.mins[b * ROWS..(b + 1) * ROWS] {
                bytes.extend_from_slice(&m.to_le_bytes());
            }
            assert_eq!(*hash, fnv1a(&bytes) as u32);
        }
    }
}
