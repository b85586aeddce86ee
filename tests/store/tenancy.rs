//! A scope reads and writes its own customer's rows only; another customer's row
//! is `NotFound` (never a permission error that would confirm it exists) and is
//! left unchanged.

use crate::harness::{TestDb, filters, person};
use crate::on_both_backends;
use obera_store::{NewApiKey, PageRequest, StoreError};
use obera_types::{ApiKeyId, ApiScope, Department, Role, UpdateUser, UserStatus};

const FIRST_PAGE: PageRequest = PageRequest {
    limit: 200,
    after: uuid::Uuid::nil(),
};

async fn a_scope_sees_and_changes_only_its_own_customers_rows(t: TestDb) {
    let a = t.sign_up("Alpha").await.unwrap();
    let b = t.sign_up("Bravo").await.unwrap();
    let (b_person, _) =
        t.db.add_profile(
            &b.scope(),
            &person("bravo.example.com", Department::It, Role::Member),
            &filters(),
        )
        .await
        .unwrap();
    let b_key = NewApiKey {
        id: ApiKeyId::new(),
        name: "bravo sync".parse().unwrap(),
        prefix: "obk_test".to_owned(),
        secret_hash: "hash".to_owned(),
        scopes: vec![ApiScope::UsersRead],
        expires_at: None,
    };
    t.db.create_api_key(&b.scope(), &b_key).await.unwrap();
    let scope = a.scope();

    // Reads: B's person is not found, and A's lists hold A's rows only.
    assert!(matches!(
        t.db.get_profile(&scope, b_person.id).await,
        Err(StoreError::NotFound)
    ));
    let (people, _) = t.db.list_profiles(&scope, FIRST_PAGE).await.unwrap();
    assert_eq!(
        people.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![a.admin.id]
    );
    let (keys, _) = t.db.list_api_keys(&scope, FIRST_PAGE).await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
    let (events, _) =
        t.db.list_audit(&scope, FIRST_PAGE, obera_types::AuditOrder::OldestFirst)
            .await
            .unwrap();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e.customer_id == Some(a.customer.id)));
    assert_eq!(t.db.get_customer(&scope).await.unwrap().id, a.customer.id);

    // Writes: each is NotFound, and B's rows are as they were.
    let rename = UpdateUser {
        full_name: Some("Taken Over".parse().unwrap()),
        department: None,
        role: Some(Role::Admin),
    };
    assert!(matches!(
        t.db.update_profile(&scope, b_person.id, &rename).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        t.db.set_profile_status(&scope, b_person.id, UserStatus::Deactivated)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        t.db.revoke_api_key(&scope, b_key.id).await,
        Err(StoreError::NotFound)
    ));
    let still = t.db.get_profile(&b.scope(), b_person.id).await.unwrap();
    assert_eq!(still, b_person);
    let (keys, _) = t.db.list_api_keys(&b.scope(), FIRST_PAGE).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].revoked_at.is_none());

    // The control: the same writes in B's own scope succeed.
    t.db.update_profile(&b.scope(), b_person.id, &rename)
        .await
        .unwrap();
    t.db.revoke_api_key(&b.scope(), b_key.id).await.unwrap();
}
on_both_backends!(a_scope_sees_and_changes_only_its_own_customers_rows);
