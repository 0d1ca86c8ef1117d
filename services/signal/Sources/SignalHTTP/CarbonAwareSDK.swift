import Foundation
import KarbonetesModels
import SignalCore

extension CarbonAwareEmissionsForecast {
    /// Answers for one location: the forecast between the bounds, and the best window of
    /// `windowMinutes` (the forecast's slot length when absent) ending by `dataEndAt`.
    static func make(
        engine: SignalEngine, location: String, dataStartAt: Date?, dataEndAt: Date?, windowMinutes: Int?
    ) async throws -> CarbonAwareEmissionsForecast {
        let now = engine.clock.now()
        let forecast = try await engine.forecast(region: location, hours: SignalAPI.maximumForecastHours)
        let start = dataStartAt ?? max(now, forecast.points[0].start)
        let end = dataEndAt ?? forecast.points[forecast.points.count - 1].end
        guard start < end else {
            throw SignalErrorBody(code: .badRequest, message: "dataStartAt must be before dataEndAt")
        }
        let slotMinutes = Int((forecast.points[0].end.timeIntervalSince(forecast.points[0].start) / 60).rounded())
        let windowSize = windowMinutes ?? max(1, slotMinutes)
        let window = TimeInterval(windowSize) * 60
        guard end.timeIntervalSince(start) >= window else {
            throw SignalErrorBody(
                code: .badRequest, message: "windowSize \(windowSize)m does not fit between dataStartAt and dataEndAt")
        }
        let best = try await engine.bestWindow(
            region: location, notBefore: start, notAfter: end.addingTimeInterval(-window),
            duration: GoDuration(nanoseconds: Int64(window * 1e9)))
        let points = forecast.points.filter { $0.end > start && $0.start < end }.map {
            DataPoint(
                location: location, timestamp: $0.start,
                duration: Int(($0.end.timeIntervalSince($0.start) / 60).rounded()), value: $0.intensity)
        }
        return CarbonAwareEmissionsForecast(
            generatedAt: forecast.generatedAt, requestedAt: now, location: location, dataStartAt: start, dataEndAt: end,
            windowSize: windowSize,
            optimalDataPoints: [
                DataPoint(location: location, timestamp: best.start, duration: windowSize, value: best.meanIntensity)
            ],
            forecastData: points)
    }
}
