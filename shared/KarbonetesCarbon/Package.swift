// swift-tools-version:6.1
// Carbon-intensity traces: reading the CSV exports Karbonetes ships (Electricity Maps and
// ENTSO-E style), looking intensities up, exact interval means and the best window to run in.
// Pure: Foundation and KarbonetesModels only, so the signal service's `trace` provider and
// `karbonetes-eval` compute the same numbers.
import PackageDescription

let package = Package(
    name: "KarbonetesCarbon",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KarbonetesCarbon", targets: ["KarbonetesCarbon"]),
    ],
    dependencies: [
        .package(path: "../KarbonetesModels"),
    ],
    targets: [
        .target(
            name: "KarbonetesCarbon",
            dependencies: [.product(name: "KarbonetesModels", package: "KarbonetesModels")]
        ),
        .testTarget(name: "KarbonetesCarbonTests", dependencies: ["KarbonetesCarbon"]),
    ]
)

// The same compiler settings in every target, applied in one place.
for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(contentsOf: [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
    ])
    target.swiftSettings = settings
}
