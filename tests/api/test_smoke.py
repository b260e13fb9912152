"""The API answers on both databases."""


def test_health_names_the_database(client, backend):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == backend
    assert response.json()["status"] == "ok"


def test_a_contact_can_be_created_and_read_back(client, admin):
    created = client.post("/api/v1/contacts", json={"no": "c1", "name": "Acme"}, headers=admin)
    assert created.status_code == 201, created.text
    assert client.get("/api/v1/contacts/C1", headers=admin).json()["name"] == "Acme"
