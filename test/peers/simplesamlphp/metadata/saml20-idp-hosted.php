<?php
$metadata[getenv('SSP_ORIGIN') . '/simplesaml/saml2/idp/metadata.php'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.pem',
    'certificate' => 'idp.crt',
    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
    // Persistent NameIDs: an opaque hash of uid, per SP.
    'userid.attribute' => 'uid',
    'authproc' => [
        // dave signs in, but this IdP answers the SP with the status AuthnFailed.
        10 => [
            'class' => 'core:PHP',
            // Through the state's exception handler, as a filter that shows a page would: the IdP
            // turns it into a SAML Response with that status.
            'code' => 'if (($attributes["uid"][0] ?? "") === "dave") {
                \SimpleSAML\Auth\State::throwException($state, new \SimpleSAML\Module\saml\Error(
                    \SAML2\Constants::STATUS_RESPONDER,
                    \SAML2\Constants::STATUS_AUTHN_FAILED,
                    "dave may not sign in to this service"
                ));
            }',
        ],
    ],
];
