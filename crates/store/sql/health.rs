// Shared by both backends (see README.md beside this file).

#[async_trait::async_trait]
impl portcullis_store::Health for Backend {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(self.read())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        Backend::NAME
    }
}
