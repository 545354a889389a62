//! Every case of `../shared/data/vi-search-cases.tsv`, run through the real ingest
//! (normalize -> SQLite -> tantivy) and the real search. "exact tier" cases are checked by
//! ranking the document above a decoy that only matches the folded (unaccented) form.
//! Every case also says what must stay out: an unrelated article is indexed beside each
//! one, "should find" cases add near misses (a document with only part of the query), and
//! the hits must be exactly the expected ones — an engine that returns everything fails.

use chrono::{Duration, Utc};
use gomtin::app::load_variants;
use gomtin::config::Config;
use gomtin::index::SearchIndex;
use gomtin::model::RawEntry;
use gomtin::normalize::normalize_entry;
use gomtin::search::{SearchRequest, SearchResults, Searcher};
use gomtin::store::Store;

mod support;

struct Corpus {
    _dir: tempfile::TempDir,
    store: Store,
    index: SearchIndex,
    variants: gomtin::vietnamese::variants::Variants,
}

/// Index `docs` (titles) through the normal pipeline; all published at the same time so
/// that recency plays no part.
fn corpus(docs: &[&str]) -> Corpus {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = Config::parse(
        "[[sources]]\nid = \"t\"\nname = \"T\"\nkind = \"feed\"\nurl = \"https://t.vn/rss\"\n",
        &dir.path().join("gomtin.toml"),
    )
    .expect("config");
    let store = Store::open(&dir.path().join("data")).expect("store");
    store.sync_sources(&cfg, Utc::now()).expect("sync");
    let when = Utc::now() - Duration::days(3);
    let items: Vec<_> = docs
        .iter()
        .enumerate()
        .map(|(i, title)| {
            normalize_entry(
                "t",
                RawEntry {
                    guid: Some(format!("doc-{i}")),
                    title: Some((*title).to_string()),
                    summary_html: Some(format!("Bài số {i}.")),
                    published: Some(when),
                    ..Default::default()
                },
                None,
                Utc::now(),
            )
            .expect("item")
        })
        .collect();
    store.upsert_items(&items, Utc::now()).expect("upsert");
    let index = SearchIndex::open(&dir.path().join("data/index")).expect("index");
    index.reconcile(&store).expect("reconcile");
    let variants = load_variants(&cfg).expect("variants");
    Corpus {
        _dir: dir,
        store,
        index,
        variants,
    }
}

impl Corpus {
    fn search(&self, q: &str) -> SearchResults {
        Searcher {
            index: &self.index,
            store: &self.store,
            variants: &self.variants,
            tz: chrono_tz::Asia::Ho_Chi_Minh,
            cache: None,
        }
        .search(&SearchRequest::new(q, 20))
        .expect("search")
    }

    /// Titles of the hits, best first.
    fn titles(&self, q: &str) -> Vec<String> {
        self.search(q).hits.into_iter().map(|h| h.title).collect()
    }
}

fn rank(titles: &[String], needle: &str) -> Option<usize> {
    let needle = gomtin::vietnamese::clean(&gomtin::normalize::html_to_text(needle));
    titles.iter().position(|t| *t == needle)
}

/// An article about something else, indexed beside every case: no query below may return it.
const UNRELATED: &str = "Tin không liên quan về thời tiết";

/// `q` finds `doc` and leaves out both the unrelated article and each of `near_misses`
/// (documents that share part of the query but not all of it).
fn assert_match(q: &str, doc: &str, near_misses: &[&str]) {
    let mut docs = vec![doc, UNRELATED];
    docs.extend_from_slice(near_misses);
    let c = corpus(&docs);
    let t = c.titles(q);
    assert!(
        rank(&t, doc).is_some(),
        "{q:?} should find {doc:?}; got {t:?}"
    );
    for other in std::iter::once(&UNRELATED).chain(near_misses) {
        assert!(
            rank(&t, other).is_none(),
            "{q:?} must not find {other:?}; got {t:?}"
        );
    }
    assert_eq!(t.len(), 1, "{q:?}: only {doc:?}; got {t:?}");
}

/// `q` does not find `doc`, while it does find `matching` (so the query works at all).
fn assert_no_match(q: &str, doc: &str, matching: &str) {
    let c = corpus(&[doc, matching, UNRELATED]);
    let t = c.titles(q);
    assert!(
        rank(&t, doc).is_none(),
        "{q:?} should not find {doc:?}; got {t:?}"
    );
    assert!(
        rank(&t, matching).is_some(),
        "{q:?} should find {matching:?}; got {t:?}"
    );
    assert_eq!(t.len(), 1, "{q:?}: only {matching:?}; got {t:?}");
}

/// Both are found, `first` above `second`, and nothing else (the unrelated article stays out).
fn assert_order(q: &str, first: &str, second: &str) {
    // Index in the "wrong" order so that ties cannot pass by accident.
    let c = corpus(&[second, UNRELATED, first]);
    let t = c.titles(q);
    let (a, b) = (rank(&t, first), rank(&t, second));
    assert!(
        a.is_some() && b.is_some(),
        "{q:?} should find both; got {t:?}"
    );
    assert!(
        a < b,
        "{q:?}: {first:?} should rank above {second:?}; got {t:?}"
    );
    assert_eq!(
        t.len(),
        2,
        "{q:?}: the unrelated article is not a hit; got {t:?}"
    );
}

#[test]
fn every_tsv_case_has_a_test() {
    let tsv = std::fs::read_to_string(support::shared_data().join("vi-search-cases.tsv"))
        .expect("cases file");
    let ids: Vec<u32> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next()?.parse().ok())
        .collect();
    assert_eq!(
        ids,
        (1..=25).collect::<Vec<_>>(),
        "cases file changed: add tests"
    );
}

#[test]
fn case_01_unaccented_query_hits_folded_field() {
    assert_match(
        "kon ray",
        "Huyện Kon Rẫy triển khai tiêm chủng",
        &[
            "Huyện Kon Plông triển khai tiêm chủng",
            "Rẫy cà phê ở Đăk Hà",
        ],
    );
}

#[test]
fn case_02_exact_diacritics_rank_first() {
    assert_order(
        "Kon Rẫy",
        "Huyện Kon Rẫy triển khai tiêm chủng",
        "Kon Ray (viết không dấu)",
    );
}

#[test]
fn case_03_minimal_pair_ray_folds_equal() {
    assert_order(
        "Kon Rẫy",
        "Huyện Kon Rẫy triển khai tiêm chủng",
        "Người dân Kon Rây phản ánh",
    );
}

#[test]
fn case_04_phrase_needs_adjacency() {
    assert_no_match(
        "\"Kon Rẫy\"",
        "Rẫy cà phê ở Kon Tum",
        "Huyện Kon Rẫy triển khai tiêm chủng",
    );
    // ...while the unquoted words do match it.
    assert_match("Kon Rẫy", "Rẫy cà phê ở Kon Tum", &["Kon Tum mùa mưa"]);
}

#[test]
fn case_05_old_new_tone_placement() {
    assert_order("hòa bình", "Hoà Bình", "Hoa Binh");
}

#[test]
fn case_06_tone_placement_uy() {
    assert_order("thuỷ lợi", "công trình thủy lợi", "công trình thuy loi");
}

#[test]
fn case_07_case_and_placement() {
    assert_order("khỏe", "KHOẺ", "khoe");
}

#[test]
fn case_08_nfd_query_against_nfc_doc() {
    let nfd_query = "Kon Ra\u{0302}\u{0303}y";
    assert_order(nfd_query, "Kon Rẫy", "Kon Ray");
}

#[test]
fn case_09_partial_composition() {
    assert_order("huyện", "huy\u{1EB9}\u{0302}n Kon Rẫy", "huyen Kon Ray");
}

#[test]
fn case_10_entities_decoded_before_indexing() {
    assert_match("xách dao", "x&#225;ch dao", &["x&#225;ch n&#432;&#7899;c"]);
}

#[test]
fn case_11_eth_homoglyph() {
    assert_order("Đắk Hà", "\u{00D0}ẮK HÀ", "Dak Ha");
}

#[test]
fn case_12_d_stroke_folds_to_d() {
    assert_match("dak ha", "Đăk Hà", &["Đăk Tô mùa lúa"]);
}

#[test]
fn case_13_official_spelling_variants() {
    assert_order("Đăk Hà", "Đắk Hà", "Dak Ha");
}

#[test]
fn case_14_duong_minimal_pair() {
    assert_order("đường", "Con đường mới về thôn", "Dương Minh Châu");
}

#[test]
fn case_15_folded_collision_bao() {
    assert_order("bão", "Cơn bão số 5 đổ bộ", "Báo Kon Tum");
}

#[test]
fn case_16_i_y_orthography() {
    assert_match("kĩ thuật", "kỹ thuật", &["kỹ năng sống", "thuật ngữ mới"]);
    assert_match("ki thuat", "kỹ thuật", &["kỹ năng sống", "thuật ngữ mới"]);
}

#[test]
fn case_17_apostrophe_in_minority_names() {
    assert_match("ia hdrai", "huyện Ia H'Drai", &["huyện Ia Grai"]);
    assert_match("Ia H'Drai", "huyện Ia H’Drai", &["huyện Ia Grai"]);
}

#[test]
fn case_18_raw_telex_fallback() {
    let c = corpus(&["Việt Nam", UNRELATED, "Nam Định"]);
    let r = c.search("vieejt nam");
    let titles: Vec<&str> = r.hits.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles, ["Việt Nam"]);
    assert_eq!(r.corrected_query.as_deref(), Some("việt nam"));
    assert!(
        r.notices.iter().any(|n| n.contains("việt nam")),
        "{:?}",
        r.notices
    );
}

#[test]
fn case_19_raw_vni_fallback() {
    let c = corpus(&["Việt Nam", UNRELATED, "Nam Định"]);
    let r = c.search("Vie65t Nam");
    let titles: Vec<&str> = r.hits.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles, ["Việt Nam"]);
    assert!(r.corrected_query.is_some());
}

#[test]
fn case_20_hyphen_split() {
    // ("Covid = Covid-19 = nCoV" is a variant group, so "COVID" alone would match too.)
    assert_match("covid 19", "COVID-19", &["Sốt xuất huyết tăng 19 ca"]);
}

#[test]
fn case_21_dot_split_and_city_synonym() {
    assert_match("tp hcm", "TP.HCM", &["TP Đà Nẵng"]);
    assert_match("tp hcm", "Thành phố Hồ Chí Minh", &["Thành phố Hà Nội"]);
    assert_match("TP.HCM", "Hồ Chí Minh", &["TP Đà Nẵng", "Thành phố Hà Nội"]);
}

#[test]
fn case_22_no_stopword_removal() {
    assert_match(
        "\"người dân\"",
        "người dân xã Đăk Ruồng",
        &["dân làng và những người khác"],
    );
}

#[test]
fn case_23_negation_word_is_not_a_stopword() {
    assert_no_match(
        "không có điện",
        "có điện trở lại",
        "Thôn vùng sâu vẫn không có điện",
    );
}

#[test]
fn case_24_zero_width_stripped() {
    assert_order("Kon Rẫy", "Kon Rẫ\u{200B}y", "Kon Ray");
}

#[test]
fn case_25_teencode_synonyms() {
    assert_match("đc ko", "được không", &["được mùa lúa"]);
}
