<?php
// Test users of the SimpleSAMLphp IdP (username:password => attributes).
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
        'alice:alicepass' => [
            'uid' => ['alice'],
            'email' => ['alice@example.com'],
            'groups' => ['admins', 'devs'],
            'displayName' => ['Alice'],
        ],
        'bob:bobpass' => [
            'uid' => ['bob'],
            'email' => ['bob@example.com'],
            'groups' => ['devs'],
            'displayName' => ['Bob'],
        ],
    ],
];
