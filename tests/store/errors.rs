//! Typed store errors, classified from the driver's error kinds on both backends,
//! and a failed write that leaves nothing behind.

use crate::harness::{TestDb, filters, person};
use crate::on_both_backends;
use obera_store::{PageRequest, StoreError};
use obera_types::{Department, Role};

async fn a_second_person_with_the_same_email_is_a_duplicate_and_writes_nothing(t: TestDb) {
    let a = t.sign_up("Alpha").await.unwrap();
    let scope = a.scope();
    let first = person("alpha.example.com", Department::Hr, Role::Member);
    let _ = t.db.add_profile(&scope, &first, &filters()).await.unwrap();
    let page = PageRequest {
        limit: 200,
        after: uuid::Uuid::nil(),
    };
    let (before, _) = t.db.list_profiles(&scope, page).await.unwrap();
    let (events_before, _) =
        t.db.list_audit(&scope, page, obera_types::AuditOrder::OldestFirst)
            .await
            .unwrap();

    let again = obera_store::NewProfile {
        full_name: "Someone Else".parse().unwrap(),
        ..first.clone()
    };
    let err =
        t.db.add_profile(&scope, &again, &filters())
            .await
            .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");

    // Neither the profile nor its audit event (same transaction) was written.
    let (after, _) = t.db.list_profiles(&scope, page).await.unwrap();
    assert_eq!(after, before);
    let (events_after, _) =
        t.db.list_audit(&scope, page, obera_types::AuditOrder::OldestFirst)
            .await
            .unwrap();
    assert_eq!(events_after.len(), events_before.len());
}
on_both_backends!(a_second_person_with_the_same_email_is_a_duplicate_and_writes_nothing);

async fn a_closed_store_is_unavailable_not_a_bug(t: TestDb) {
    let a = t.sign_up("Alpha").await.unwrap();
    t.db.close().await;
    let err = t.db.get_customer(&a.scope()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(!t.db.ping().await);
}
on_both_backends!(a_closed_store_is_unavailable_not_a_bug);

async fn a_scope_for_a_customer_that_does_not_exist_finds_nothing(t: TestDb) {
    let ghost = obera_store::TenantScope::for_verified_actor(
        obera_types::CustomerId::new(),
        obera_store::Actor::User(obera_types::UserId::new()),
    );
    assert!(matches!(
        t.db.get_customer(&ghost).await,
        Err(StoreError::NotFound)
    ));
    // A write into it breaks the customer foreign key instead of creating orphans.
    let err =
        t.db.add_profile(
            &ghost,
            &person("ghost.example.com", Department::It, Role::Member),
            &filters(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey(_)), "{err:?}");
}
on_both_backends!(a_scope_for_a_customer_that_does_not_exist_finds_nothing);
