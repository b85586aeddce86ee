//! Keyset paging: pages follow creation order with no gap and no repeat, the last
//! page has no cursor, newest-first reverses it, and bad parameters name their field.

use crate::harness::{TestDb, filters, person};
use crate::on_both_backends;
use obera_store::{PageError, PageRequest};
use obera_types::{AuditOrder, Department, Role, UserId};

/// Every page of the customer's people, `limit` at a time: the ids per page.
async fn pages(t: &TestDb, scope: &obera_store::TenantScope, limit: u32) -> Vec<Vec<UserId>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = PageRequest::parse(Some(limit), cursor.as_deref()).unwrap();
        let (items, next) = t.db.list_profiles(scope, page).await.unwrap();
        out.push(items.iter().map(|p| p.id).collect());
        match next {
            Some(next) => cursor = Some(next),
            None => return out,
        }
        assert!(out.len() < 100, "paging does not end");
    }
}

async fn pages_cover_every_row_once_in_creation_order(t: TestDb) {
    let a = t.sign_up("Alpha").await.unwrap();
    let scope = a.scope();
    let mut created = vec![a.admin.id];
    for _ in 0..24 {
        let (p, _) =
            t.db.add_profile(
                &scope,
                &person("alpha.example.com", Department::Sales, Role::Member),
                &filters(),
            )
            .await
            .unwrap();
        created.push(p.id);
    }
    let got = pages(&t, &scope, 10).await;
    assert_eq!(
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    assert_eq!(got.concat(), created);

    // An exact multiple of the limit: the last full page ends the paging (the
    // store reads one row more than it returns), with no empty page after it.
    let got = pages(&t, &scope, 5).await;
    assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), vec![5; 5]);
    assert_eq!(got.concat(), created);

    // The audit log newest first is the oldest-first order reversed.
    let all = PageRequest::parse(Some(200), None).unwrap();
    let (oldest, _) =
        t.db.list_audit(&scope, all, AuditOrder::OldestFirst)
            .await
            .unwrap();
    let (newest, _) =
        t.db.list_audit(&scope, all, AuditOrder::NewestFirst)
            .await
            .unwrap();
    assert_eq!(oldest.len(), 25, "sign-up and 24 invitations");
    let reversed: Vec<_> = oldest.iter().rev().map(|e| e.id).collect();
    assert_eq!(newest.iter().map(|e| e.id).collect::<Vec<_>>(), reversed);
}
on_both_backends!(pages_cover_every_row_once_in_creation_order);

#[test]
fn bad_page_parameters_name_their_field() {
    for limit in [0, 201] {
        let err = PageRequest::parse(Some(limit), None).unwrap_err();
        assert_eq!((err, err.field()), (PageError::Limit, "limit"));
    }
    for cursor in ["not-a-cursor", "AAAA", "123e4567-e89b-12d3-a456"] {
        let err = PageRequest::parse(None, Some(cursor)).unwrap_err();
        assert_eq!(
            (err, err.field()),
            (PageError::Cursor, "cursor"),
            "{cursor:?}"
        );
    }
    let first = PageRequest::parse(None, Some("")).unwrap();
    assert_eq!((first.limit, first.after), (50, uuid::Uuid::nil()));
}
