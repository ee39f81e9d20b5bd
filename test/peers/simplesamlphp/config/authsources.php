<?php
// The test users. Attribute values are always arrays (SimpleSAMLphp's model).
$config = [
    'example-userpass' => [
        'exampleauth:UserPass',
        'alice:alicepass' => [
            'uid' => ['alice'],
            'mail' => ['alice@example.org'],
            'displayName' => ['Alice Admin'],
            'groups' => ['admins', 'users'],
            'eduPersonAffiliation' => ['member', 'staff'],
        ],
        'bob:bobpass' => [
            'uid' => ['bob'],
            'mail' => ['bob@example.org'],
            'displayName' => ['Bob User'],
            'groups' => ['users'],
            'eduPersonAffiliation' => ['member', 'student'],
        ],
        'carol:carolpass' => [
            'uid' => ['carol'],
            'mail' => ['carol@example.org'],
            'displayName' => ['Carol Ünïcødé'],
            'groups' => [],
            'eduPersonAffiliation' => ['affiliate'],
        ],
        // Authenticates, then the IdP refuses the login (see saml20-idp-hosted.php): AuthnFailed.
        'dave:davepass' => [
            'uid' => ['dave'],
            'mail' => ['dave@example.org'],
            'displayName' => ['Dave Denied'],
            'groups' => ['users'],
        ],
    ],
];
