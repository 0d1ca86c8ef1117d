import CKarbonOpenSSL
import Foundation

/// An OpenSSL `SSL_CTX`: immutable once built and shared by every connection made from it
/// (OpenSSL allows that across threads), so a reload builds a new one instead of changing it.
package final class TLSContext: @unchecked Sendable {
    package let pointer: OpaquePointer
    package let isServer: Bool
    /// For clients: the name sent as SNI and checked against the certificate.
    package let verifiesPeer: Bool

    private init(pointer: OpaquePointer, isServer: Bool, verifiesPeer: Bool) {
        self.pointer = pointer
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(pointer) }

    /// The serial number of the certificate a server context presents, to tell a reloaded one.
    package var certificateSerialNumber: Int? {
        guard let certificate = SSL_CTX_get0_certificate(pointer), let serial = X509_get_serialNumber(certificate) else { return nil }
        return ASN1_INTEGER_get(serial)
    }

    /// TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3's defaults are all modern.
    static let tls12Ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    private static func makeBase(server: Bool, minimumVersion: TLSVersion) throws -> OpaquePointer {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.contextSetup(openSSLErrors())
        }
        _ = karbon_SSL_CTX_set_hardened_options(ctx)
        let version = minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard karbon_SSL_CTX_set_min_proto_version(ctx, version) == 1,
            SSL_CTX_set_cipher_list(ctx, tls12Ciphers) == 1
        else {
            SSL_CTX_free(ctx)
            throw TLSError.contextSetup(openSSLErrors())
        }
        _ = karbon_SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384")
        return ctx
    }

    package static func server(_ configuration: TLSServerConfiguration) throws -> TLSContext {
        let ctx = try makeBase(server: true, minimumVersion: configuration.minimumVersion)
        let context = TLSContext(pointer: ctx, isServer: true, verifiesPeer: configuration.clientCAFile != nil)
        guard FileManager.default.isReadableFile(atPath: configuration.certificateFile) else {
            throw TLSError.unreadableFile(configuration.certificateFile)
        }
        guard FileManager.default.isReadableFile(atPath: configuration.keyFile) else {
            throw TLSError.unreadableFile(configuration.keyFile)
        }
        guard SSL_CTX_use_certificate_chain_file(ctx, configuration.certificateFile) == 1 else {
            throw TLSError.invalidPEM(configuration.certificateFile, reason: openSSLErrors())
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, configuration.keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.invalidPEM(configuration.keyFile, reason: openSSLErrors())
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError.invalidPEM(configuration.keyFile, reason: "key does not match the certificate: " + openSSLErrors())
        }
        if let caFile = configuration.clientCAFile {
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1, let names = SSL_load_client_CA_file(caFile) else {
                throw TLSError.invalidPEM(caFile, reason: openSSLErrors())
            }
            SSL_CTX_set_client_CA_list(ctx, names)
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
        let sessionContext = Array("karbonetes".utf8)
        _ = SSL_CTX_set_session_id_context(ctx, sessionContext, UInt32(sessionContext.count))
        _ = karbon_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_SERVER))
        return context
    }

    package static func client(_ configuration: TLSClientConfiguration) throws -> TLSContext {
        let ctx = try makeBase(server: false, minimumVersion: configuration.minimumVersion)
        let context = TLSContext(pointer: ctx, isServer: false, verifiesPeer: !configuration.insecureSkipVerify)
        switch configuration.trustRoots {
        case .systemDefault:
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else { throw TLSError.contextSetup(openSSLErrors()) }
        case .pem(let source):
            let certificates = try readCertificates(source)
            let store = SSL_CTX_get_cert_store(ctx)
            for certificate in certificates {
                X509_STORE_add_cert(store, certificate)
                X509_free(certificate)
            }
        }
        SSL_CTX_set_verify(ctx, configuration.insecureSkipVerify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nil)
        switch (configuration.clientCertificate, configuration.clientKey) {
        case (nil, nil):
            break
        case (let certificateSource?, let keySource?):
            let chain = try readCertificates(certificateSource)
            guard SSL_CTX_use_certificate(ctx, chain[0]) == 1 else {
                chain.forEach { X509_free($0) }
                throw TLSError.invalidPEM(certificateSource.displayName, reason: openSSLErrors())
            }
            X509_free(chain[0])
            for extra in chain.dropFirst() where karbon_SSL_CTX_add_extra_chain_cert(ctx, extra) != 1 {
                X509_free(extra)
            }
            let key = try readPrivateKey(keySource)
            defer { EVP_PKEY_free(key) }
            guard SSL_CTX_use_PrivateKey(ctx, key) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
                throw TLSError.invalidPEM(keySource.displayName, reason: "key does not match the certificate: " + openSSLErrors())
            }
        case (let certificateSource?, nil):
            throw TLSError.invalidPEM(certificateSource.displayName, reason: "client certificate without a key")
        case (nil, let keySource?):
            throw TLSError.invalidPEM(keySource.displayName, reason: "client key without a certificate")
        }
        return context
    }

    /// Every certificate in a PEM source, in order (a chain or a CA bundle).
    static func readCertificates(_ source: PEMSource) throws -> [OpaquePointer] {
        let data = try source.load()
        var certificates: [OpaquePointer] = []
        try withMemoryBIO(data) { bio in
            ERR_clear_error()
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { certificates.append(certificate) }
            ERR_clear_error()
            if certificates.isEmpty { throw TLSError.invalidPEM(source.displayName, reason: "no certificate found") }
        }
        return certificates
    }

    static func readPrivateKey(_ source: PEMSource) throws -> OpaquePointer {
        let data = try source.load()
        return try withMemoryBIO(data) { bio in
            ERR_clear_error()
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                throw TLSError.invalidPEM(source.displayName, reason: "no private key found: " + openSSLErrors())
            }
            return key
        }
    }

    static func withMemoryBIO<T>(_ data: Data, _ body: (OpaquePointer) throws -> T) throws -> T {
        let bytes = [UInt8](data)
        return try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw TLSError.contextSetup("BIO_new_mem_buf failed")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }
}

/// OpenSSL's queued errors on this thread as one line, and the queue cleared.
package func openSSLErrors() -> String {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages.isEmpty ? "unknown OpenSSL error" : messages.joined(separator: "; ")
}
