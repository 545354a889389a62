//! The scorer on hand-picked sentences: labels and the reasons given, with negation,
//! hedges, contrast, quotes, help after harm and solved cases.

use super::*;

fn judge(title: &str) -> ToneVerdict {
    ToneModel::builtin().judge(title, "", "")
}

fn phrases(v: &ToneVerdict) -> Vec<String> {
    v.reasons.iter().map(|r| r.phrase.to_lowercase()).collect()
}

fn reason<'a>(v: &'a ToneVerdict, phrase: &str) -> &'a ToneReason {
    v.reasons
        .iter()
        .find(|r| r.phrase.to_lowercase() == phrase)
        .unwrap_or_else(|| panic!("no reason `{phrase}` in {:?}", v.reasons))
}

#[test]
fn the_builtin_lexicon_parses() {
    let m = ToneModel::with_extra("").expect("config/tone.txt is valid");
    assert!(m.lexicon().len() > 300, "{}", m.lexicon().len());
}

#[test]
fn a_dozen_sentences_get_the_tone_and_the_reasons_a_reader_would_give() {
    let cases: &[(&str, Tone, &[&str])] = &[
        (
            "Xã Đăk Ruồng về đích nông thôn mới",
            Tone::Positive,
            &["về đích nông thôn mới"],
        ),
        (
            "Khánh thành cầu treo cho bà con xã Đăk Kôi",
            Tone::Positive,
            &["khánh thành"],
        ),
        (
            "Xe khách lật trên đèo, 3 người tử vong",
            Tone::Negative,
            &["tử vong"],
        ),
        (
            "Phát hiện thi thể nam giới trôi trên sông Đăk Bla",
            Tone::Negative,
            &["thi thể"],
        ),
        (
            "Thanh niên nhặt được ví tiền, trả lại người đánh rơi",
            Tone::Positive,
            &["nhặt được", "người đánh rơi"],
        ),
        (
            "Đội tuyển Việt Nam giành huy chương vàng Olympic Toán quốc tế",
            Tone::Positive,
            &["giành huy chương"],
        ),
        // A case solved: the theft is background.
        (
            "Công an phá án vụ trộm xe máy, trao trả tài sản cho người dân",
            Tone::Positive,
            &["phá án", "trộm"],
        ),
        // ... but not a killing, even with the suspect arrested.
        (
            "Bắt đối tượng giết người sau cuộc nhậu",
            Tone::Negative,
            &["giết"],
        ),
        // Help after a harm: the harm is background.
        (
            "Phẫu thuật thành công cho bé 3 tuổi bị tai nạn giao thông",
            Tone::Positive,
            &["phẫu thuật thành công", "tai nạn"],
        ),
        // Rescue during a fire: the fire is the news.
        (
            "Giải cứu 4 người trong căn nhà bị cháy",
            Tone::Negative,
            &["cháy"],
        ),
        // Quotes: a figurative good word does not count.
        (
            "Đồng Nai đề nghị 'giải cứu' đàn heo của nông dân",
            Tone::Neutral,
            &[],
        ),
        // Hedge: a plan is not an achievement yet.
        (
            "Huyện sẽ khánh thành trường học mới vào tháng 9",
            Tone::Neutral,
            &[],
        ),
        // A question is not an achievement either.
        ("Bao giờ xã đạt chuẩn nông thôn mới?", Tone::Neutral, &[]),
    ];
    for (title, want, must) in cases {
        let v = judge(title);
        assert_eq!(v.label, *want, "{title}: {:?}", v.reasons);
        for p in *must {
            reason(&v, p);
        }
        if *want == Tone::Neutral {
            assert!(
                v.reasons.iter().all(|r| r.weight <= 0.0),
                "{title}: {:?}",
                v.reasons
            );
        }
    }
}

#[test]
fn negation_cancels_the_phrase_it_denies_and_says_so() {
    // "No casualties" does not make a fire good news, and is not counted as a casualty.
    let v = judge("Cháy xưởng gỗ ở Kon Tum, không có thương vong");
    assert_eq!(v.label, Tone::Negative);
    let r = reason(&v, "thương vong");
    assert!(r.negated && r.weight == 0.0, "{r:?}");
    assert!(reason(&v, "cháy").weight < 0.0);
    // A rumour denied: nothing happened.
    let v = judge("Không có chuyện bắt cóc trẻ em ở Hải Phòng");
    assert_eq!(v.label, Tone::Neutral, "{:?}", v.reasons);
    assert!(reason(&v, "bắt cóc").negated);
    // "Không qua khỏi" (did not survive) is a phrase of its own, not a negation.
    let v = judge("Nạn nhân vụ tai nạn đã không qua khỏi");
    assert_eq!(v.label, Tone::Negative);
    assert!(
        phrases(&v).contains(&"không qua khỏi".to_string()),
        "{:?}",
        v.reasons
    );
    // The negation reaches over a word or two ("không ai bị thương"), not further.
    let v = judge("Tai nạn trên quốc lộ 14, không ai bị thương");
    assert!(reason(&v, "bị thương").negated);
    let v = judge("Không mưa nhiều ngày, cụ ông đi làm rẫy bị thương");
    assert!(
        !reason(&v, "bị thương").negated,
        "too far from the negation"
    );
}

#[test]
fn contrast_halves_what_comes_before_it() {
    let v =
        judge("Mặc dù được đưa vào sử dụng năm 2016, nhưng con đường đã xuống cấp nghiêm trọng");
    assert_eq!(v.label, Tone::Negative, "{:?}", v.reasons);
    let good = reason(&v, "đưa vào sử dụng").weight;
    let bad = reason(&v, "xuống cấp").weight;
    assert!((good - 4.5).abs() < 1e-4, "3 × 3 halved: {good}");
    assert!((bad + 9.0).abs() < 1e-4, "3 × 3 in full: {bad}");
}

#[test]
fn title_weighs_more_than_lead_and_body_and_a_phrase_counts_once_per_field() {
    let m = ToneModel::builtin();
    let title = m.judge("Khánh thành trường học", "", "");
    let lead = m.judge("Trường học mới", "Huyện vừa khánh thành trường học.", "");
    let body = m.judge(
        "Trường học mới",
        "Tin từ huyện.",
        "Tin từ huyện. Sáng nay huyện khánh thành trường học, khánh thành cả thư viện.",
    );
    let w = |v: &ToneVerdict| reason(v, "khánh thành").weight;
    assert_eq!((w(&title), w(&lead), w(&body)), (12.0, 6.0, 1.0));
    assert_eq!(title.label, Tone::Positive);
    assert_eq!(lead.label, Tone::Positive);
    assert_eq!(
        body.label,
        Tone::Neutral,
        "good news must be in the headline"
    );
    assert_eq!(body.reasons.len(), 1, "counted once: {:?}", body.reasons);
    // Bad news is noticed in the body too.
    let v = m.judge(
        "Lãnh đạo tỉnh làm việc với huyện",
        "Buổi làm việc sáng nay.",
        "Người dân bức xúc vì bị thu hồi đất, nhiều hộ khiếu nại kéo dài, có dấu hiệu sai phạm, nhiều người tố cáo.",
    );
    assert_eq!(v.label, Tone::Negative, "{:?}", v.reasons);
}

#[test]
fn the_admins_lines_extend_and_override_the_builtin_ones() {
    let v = ToneModel::with_extra("+4 về nguồn\n-6 khánh thành\n")
        .expect("extra")
        .judge("Hành trình về nguồn của đoàn viên", "", "");
    assert_eq!(v.label, Tone::Positive);
    let v = ToneModel::with_extra("-6 khánh thành\n")
        .expect("extra")
        .judge("Khánh thành cầu", "", "");
    assert_eq!(v.label, Tone::Negative, "the admin's weight wins");
    let e = ToneModel::with_extra("+4 ok\nkhông hợp lệ\n").expect_err("bad line");
    assert_eq!(e.line, 2, "the admin's own line number: {e}");
    assert_ne!(
        ToneModel::builtin().fingerprint(),
        ToneModel::with_extra("+4 về nguồn")
            .expect("extra")
            .fingerprint()
    );
}

#[test]
fn reasons_read_as_one_line_with_each_phrase_once() {
    let v = ToneModel::builtin().judge(
        "Khánh thành cầu treo",
        "Huyện vừa khánh thành cầu treo.",
        "",
    );
    assert_eq!(v.reasons.len(), 2, "title and lead: {:?}", v.reasons);
    assert_eq!(v.reasons_line(), "khánh thành (+18)");
}

#[test]
fn reasons_read_as_one_line() {
    let v = judge("Cháy xưởng gỗ, không có thương vong");
    let line = v.reasons_line();
    assert!(line.contains("cháy (−12)"), "{line}");
    assert!(
        line.contains("thương vong (phủ định, không tính)"),
        "{line}"
    );
}

#[test]
fn a_body_is_read_to_the_end_of_the_clause_that_reaches_its_budget() {
    // 399 plain words in short clauses, then one clause that crosses the budget with a bad
    // phrase at its end, then a bad phrase in the next clause (past the budget).
    let filler = format!(
        "{}, bà con đi làm",
        vec!["bà con đi làm rẫy"; 79].join(", ")
    );
    let crossing = "cán bộ xã đến thăm và người dân bị tai nạn";
    let body = format!("{filler}, {crossing}. Ba người tử vong.");
    let scan = |body: &str| {
        scan::scan(
            ToneModel::builtin().lexicon(),
            body,
            scan::Field::Body,
            (1.0, 1.0),
            Some(BODY_WORDS),
        )
        .into_iter()
        .map(|f| f.text.to_lowercase())
        .collect::<Vec<_>>()
    };
    let found = scan(&body);
    assert!(found.contains(&"tai nạn".to_string()), "{found:?}");
    assert!(!found.iter().any(|p| p == "tử vong"), "{found:?}");
    // Without the filler the same last sentence is read.
    let found = scan(&format!("{crossing}. Ba người tử vong."));
    assert!(found.contains(&"tử vong".to_string()), "{found:?}");
}
