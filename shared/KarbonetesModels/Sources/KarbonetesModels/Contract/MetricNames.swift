/// The Prometheus metric names the services expose. The dashboard, the alert rules and their
/// tests under `monitoring/` are written against these names.
public enum MetricNames {
    public enum Webhook {
        public static let admissions = "karbonetes_webhook_admissions_total"
        public static let admissionDuration = "karbonetes_webhook_admission_duration_seconds"
        public static let signalCacheAge = "karbonetes_webhook_signal_cache_age_seconds"
        public static let errors = "karbonetes_webhook_errors_total"
    }

    public enum Controller {
        public static let heldJobs = "karbonetes_controller_held_jobs"
        public static let releases = "karbonetes_controller_releases_total"
        public static let releaseDelay = "karbonetes_controller_release_delay_seconds"
        public static let releasePastDeadline = "karbonetes_controller_release_past_deadline_seconds"
        public static let heldPastDeadline = "karbonetes_controller_held_past_deadline_jobs"
        public static let reconcileErrors = "karbonetes_controller_reconcile_errors_total"
        public static let apiRequests = "karbonetes_controller_api_requests_total"
        public static let emissionsAvoided = "karbonetes_controller_emissions_avoided_grams_total"
        public static let isLeader = "karbonetes_controller_is_leader"
        public static let eventsDropped = "karbonetes_controller_events_dropped_total"
    }

    public enum Signal {
        public static let requests = "karbonetes_signal_requests_total"
        public static let providerFetches = "karbonetes_signal_provider_fetches_total"
        public static let providerErrors = "karbonetes_signal_provider_errors_total"
        public static let intensity = "karbonetes_signal_intensity_grams_per_kwh"
        public static let green = "karbonetes_signal_green"
        public static let staleness = "karbonetes_signal_staleness_seconds"
    }
}
