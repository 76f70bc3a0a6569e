pub enum OutputFormat {}
pub struct ReportWriter;
