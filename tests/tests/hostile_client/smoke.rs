//! The bystanders' checks pass on their own (the other cases rely on them).

use super::Bystanders;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bystanders_are_served_without_an_attacker() {
    let mut b = Bystanders::start().await;
    b.still_served(30).await;
    b.still_served(30).await;
}
