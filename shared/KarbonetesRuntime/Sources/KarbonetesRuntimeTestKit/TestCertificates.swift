import CKarbonOpenSSL
public import Foundation

/// A throwaway CA and certificates it signs, written to a temporary folder, for TLS tests.
///
/// Made with libcrypto in-process (EC P-256 keys, SHA-256 signatures), so tests need no
/// `openssl` binary and take milliseconds.
public struct TestCertificates: Sendable {
    public let directory: URL
    public let caCertificateFile: String
    public let caKeyFile: String
    public let certificateFile: String
    public let keyFile: String

    public var caCertificatePEM: Data { FileManager.default.contents(atPath: caCertificateFile) ?? Data() }

    /// A CA and a serving certificate for `commonName` with `dnsNames` and the loopback
    /// addresses as subject alternative names.
    public static func make(
        commonName: String = "localhost",
        dnsNames: [String] = ["localhost"],
        ipAddresses: [String] = ["127.0.0.1", "::1"]
    ) throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("karbonetes-certs-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(
            directory: directory,
            caCertificateFile: directory.appendingPathComponent("ca.crt").path,
            caKeyFile: directory.appendingPathComponent("ca.key").path,
            certificateFile: directory.appendingPathComponent("tls.crt").path,
            keyFile: directory.appendingPathComponent("tls.key").path
        )
        let caKey = try generateKey()
        defer { EVP_PKEY_free(caKey) }
        let ca = try makeCertificate(
            commonName: "karbonetes-test-ca",
            publicKey: caKey,
            issuer: nil,
            issuerKey: caKey,
            profile: .authority
        )
        defer { X509_free(ca) }
        try writeCertificate(ca, to: certificates.caCertificateFile)
        try writeKey(caKey, to: certificates.caKeyFile)
        _ = try certificates.issue(
            commonName: commonName,
            subjectAlternativeNames: dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" },
            profile: .server,
            certificateFile: certificates.certificateFile,
            keyFile: certificates.keyFile
        )
        return certificates
    }

    /// Issues a new serving certificate and key and renames them over the old files, as
    /// cert-manager rotation does; returns the new certificate's serial number.
    @discardableResult
    public func rotateServingCertificate(commonName: String = "localhost", dnsNames: [String] = ["localhost"]) throws -> Int {
        let suffix = UUID().uuidString
        let certificateTemporary = certificateFile + ".\(suffix)"
        let keyTemporary = keyFile + ".\(suffix)"
        let serial = try issue(
            commonName: commonName,
            subjectAlternativeNames: dnsNames.map { "DNS:\($0)" } + ["IP:127.0.0.1", "IP:::1"],
            profile: .server,
            certificateFile: certificateTemporary,
            keyFile: keyTemporary
        )
        guard rename(keyTemporary, keyFile) == 0, rename(certificateTemporary, certificateFile) == 0 else {
            throw CertificateError("cannot rename the rotated certificate into \(certificateFile)")
        }
        return serial
    }

    /// A client certificate signed by the same CA, for mutual TLS tests.
    public func makeClientCertificate(commonName: String) throws -> (certificateFile: String, keyFile: String) {
        let certificate = directory.appendingPathComponent("client-\(commonName).crt").path
        let key = directory.appendingPathComponent("client-\(commonName).key").path
        _ = try issue(commonName: commonName, subjectAlternativeNames: [], profile: .client, certificateFile: certificate, keyFile: key)
        return (certificate, key)
    }

    /// Removes the folder.
    public func remove() { try? FileManager.default.removeItem(at: directory) }

    private func issue(
        commonName: String,
        subjectAlternativeNames: [String],
        profile: Profile,
        certificateFile: String,
        keyFile: String
    ) throws -> Int {
        let caKey = try Self.readKey(caKeyFile)
        defer { EVP_PKEY_free(caKey) }
        let ca = try Self.readCertificate(caCertificateFile)
        defer { X509_free(ca) }
        let key = try Self.generateKey()
        defer { EVP_PKEY_free(key) }
        let serial = Int.random(in: 1_000..<Int(Int32.max))
        let certificate = try Self.makeCertificate(
            commonName: commonName,
            publicKey: key,
            issuer: ca,
            issuerKey: caKey,
            profile: profile,
            subjectAlternativeNames: subjectAlternativeNames,
            serial: serial
        )
        defer { X509_free(certificate) }
        try Self.writeKey(key, to: keyFile)
        try Self.writeCertificate(certificate, to: certificateFile)
        return serial
    }

    private enum Profile {
        case authority, server, client
    }

    private static func generateKey() throws -> OpaquePointer {
        guard let key = karbon_generate_ec_p256_key() else { throw CertificateError("EC key generation failed") }
        return key
    }

    private static func makeCertificate(
        commonName: String,
        publicKey: OpaquePointer,
        issuer: OpaquePointer?,
        issuerKey: OpaquePointer,
        profile: Profile,
        subjectAlternativeNames: [String] = [],
        serial: Int = 1
    ) throws -> OpaquePointer {
        guard let certificate = X509_new() else { throw CertificateError("X509_new failed") }
        var ok = X509_set_version(certificate, 2) == 1
        ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial) == 1
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(certificate), 30 * 86_400) != nil
        ok = ok && X509_set_pubkey(certificate, publicKey) == 1
        let name = X509_get_subject_name(certificate)
        ok = ok && X509_NAME_add_entry_by_txt(name, "CN", 0x1001, commonName, -1, -1, 0) == 1
        ok = ok && X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0) } ?? name) == 1
        let issuerCertificate = issuer ?? certificate
        var extensions: [(Int32, String)] = [(NID_subject_key_identifier, "hash")]
        switch profile {
        case .authority:
            extensions += [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign")]
        case .server:
            extensions += [
                (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth"),
            ]
        case .client:
            extensions += [
                (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "clientAuth"),
            ]
        }
        if issuer != nil { extensions.append((NID_authority_key_identifier, "keyid:always")) }
        if !subjectAlternativeNames.isEmpty {
            extensions.append((NID_subject_alt_name, subjectAlternativeNames.joined(separator: ",")))
        }
        for (nid, value) in extensions where ok {
            ok = karbon_X509_add_extension(certificate, issuerCertificate, nid, value) == 1
        }
        ok = ok && X509_sign(certificate, issuerKey, EVP_sha256()) > 0
        guard ok else {
            X509_free(certificate)
            throw CertificateError("cannot build the certificate for \(commonName)")
        }
        return certificate
    }

    private static func writeCertificate(_ certificate: OpaquePointer, to path: String) throws {
        guard let bio = BIO_new_file(path, "w") else { throw CertificateError("cannot write \(path)") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, certificate) == 1 else { throw CertificateError("cannot write \(path)") }
    }

    private static func writeKey(_ key: OpaquePointer, to path: String) throws {
        guard let bio = BIO_new_file(path, "w") else { throw CertificateError("cannot write \(path)") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else { throw CertificateError("cannot write \(path)") }
    }

    private static func readCertificate(_ path: String) throws -> OpaquePointer {
        guard let bio = BIO_new_file(path, "r") else { throw CertificateError("cannot read \(path)") }
        defer { BIO_free(bio) }
        guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else { throw CertificateError("no certificate in \(path)") }
        return certificate
    }

    private static func readKey(_ path: String) throws -> OpaquePointer {
        guard let bio = BIO_new_file(path, "r") else { throw CertificateError("cannot read \(path)") }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw CertificateError("no key in \(path)") }
        return key
    }
}

/// A failure making test certificates, naming the file or subject.
public struct CertificateError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
