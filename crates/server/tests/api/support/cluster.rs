//! Two instances of the app on one database (and, when asked, one Redis): what a deployment
//! behind a load balancer looks like. Built by `TestAppBuilder::start_cluster`.

use super::app::TestApp;

pub struct Cluster {
    pub a: TestApp,
    pub b: TestApp,
}

impl Cluster {
    /// A third instance like the first two, ready.
    pub async fn another(&self) -> TestApp {
        let app = self.a.instance(self.a.config()).await;
        app.wait_ready().await;
        app
    }
}
