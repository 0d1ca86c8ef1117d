/// Responses in the shapes the providers publish in their API references (Electricity Maps v3,
/// WattTime v3, carbonintensity.org.uk, Carbon Aware SDK WebAPI), with values chosen for the
/// tests' arithmetic.
enum Recorded {
    static let electricityMapsLatest = """
        {"zone":"DE","carbonIntensity":302,"datetime":"2026-12-03T12:00:00.000Z","updatedAt":"2026-12-03T12:04:35.000Z",
         "createdAt":"2026-12-01T12:00:00.000Z","emissionFactorType":"lifecycle","isEstimated":true,"estimationMethod":"TIME_SLICER_AVERAGE"}
        """
    static let electricityMapsForecast = """
        {"zone":"DE","forecast":[
          {"carbonIntensity":302,"datetime":"2026-12-03T12:00:00.000Z"},
          {"carbonIntensity":250,"datetime":"2026-12-03T13:00:00.000Z"},
          {"carbonIntensity":180,"datetime":"2026-12-03T14:00:00.000Z"},
          {"carbonIntensity":190,"datetime":"2026-12-03T15:00:00.000Z"},
          {"carbonIntensity":320,"datetime":"2026-12-03T16:00:00.000Z"}],
         "updatedAt":"2026-12-03T12:00:00.000Z"}
        """
    static let electricityMapsUnauthorized = #"{"status":"error","message":"Invalid authentication token"}"#
    static let electricityMapsRateLimited = #"{"status":"error","message":"Too many requests"}"#

    static let wattTimeLogin = #"{"token":"eyJhbGciOiJIUzI1NiJ9.test-token"}"#
    static let wattTimeForecast = """
        {"data":[
          {"point_time":"2026-12-03T12:05:00+00:00","value":1000.0},
          {"point_time":"2026-12-03T12:10:00+00:00","value":900.0},
          {"point_time":"2026-12-03T12:15:00+00:00","value":400.0},
          {"point_time":"2026-12-03T12:20:00+00:00","value":420.0}],
         "meta":{"data_point_period_seconds":300,"region":"CAISO_NORTH","signal_type":"co2_moer","units":"lbs_co2_per_mwh",
                 "generated_at_period_seconds":300,"generated_at":"2026-12-03T12:05:00+00:00","model":{"date":"2026-10-01","type":"binned_regression"}}}
        """
    static let wattTimeIndex = """
        {"data":[{"point_time":"2026-12-03T12:10:00+00:00","value":22.0}],
         "meta":{"data_point_period_seconds":300,"region":"CAISO_NORTH","signal_type":"co2_moer","units":"percentile"}}
        """
    static let wattTimeExpired = #"{"error":"Invalid token"}"#

    static let ukCurrent = """
        {"data":[{"from":"2026-12-03T12:00Z","to":"2026-12-03T12:30Z","intensity":{"forecast":120,"actual":115,"index":"low"}}]}
        """
    static let ukAhead = """
        {"data":[
          {"from":"2026-12-03T12:00Z","to":"2026-12-03T12:30Z","intensity":{"forecast":120,"actual":null,"index":"low"}},
          {"from":"2026-12-03T12:30Z","to":"2026-12-03T13:00Z","intensity":{"forecast":140,"actual":null,"index":"low"}},
          {"from":"2026-12-03T13:00Z","to":"2026-12-03T13:30Z","intensity":{"forecast":210,"actual":null,"index":"moderate"}},
          {"from":"2026-12-03T13:30Z","to":"2026-12-03T14:00Z","intensity":{"forecast":260,"actual":null,"index":"high"}},
          {"from":"2026-12-03T14:00Z","to":"2026-12-03T14:30Z","intensity":{"forecast":60,"actual":null,"index":"very low"}}]}
        """
    static let ukError = #"{"error":{"code":"500 Internal Server Error","message":"Something went wrong"}}"#

    static let carbonAwareForecast = """
        [{"generatedAt":"2026-12-03T12:00:00Z","requestedAt":"2026-12-03T12:10:00Z","location":"eastus",
          "dataStartAt":"2026-12-03T12:00:00Z","dataEndAt":"2026-12-03T12:20:00Z","windowSize":5,
          "optimalDataPoints":[{"location":"eastus","timestamp":"2026-12-03T12:15:00Z","duration":5,"value":300.5}],
          "forecastData":[
            {"location":"eastus","timestamp":"2026-12-03T12:00:00Z","duration":5,"value":410.0},
            {"location":"eastus","timestamp":"2026-12-03T12:05:00Z","duration":5,"value":400.0},
            {"location":"eastus","timestamp":"2026-12-03T12:10:00Z","duration":5,"value":380.0},
            {"location":"eastus","timestamp":"2026-12-03T12:15:00Z","duration":5,"value":300.5}]}]
        """
}
